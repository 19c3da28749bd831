import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "./errors.js";

/** The bytes of a file, or undefined when it does not exist. */
export async function readIfExists(hostPath: string): Promise<Buffer | undefined> {
  try {
    return await readFile(hostPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConfigError("CONFIG_READ", `cannot read ${hostPath}: ${(error as Error).message}`, { cause: error });
  }
}

export async function modeIfExists(hostPath: string): Promise<number | undefined> {
  try {
    return (await stat(hostPath)).mode & 0o7777;
  } catch {
    return undefined;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates missing directories and returns those it created, outermost first. */
export async function makeDirectories(dir: string, mode = 0o755): Promise<string[]> {
  const created: string[] = [];
  let current = dir;
  while ((await stat(current).catch(() => undefined)) === undefined) {
    created.unshift(current);
    current = path.dirname(current);
  }
  if (created.length > 0) await mkdir(dir, { recursive: true, mode });
  return created;
}

/**
 * Replaces a file so that a crash at any moment leaves either the old or the new
 * contents: temporary file in the same directory, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(hostPath: string, bytes: Uint8Array, mode: number): Promise<void> {
  const dir = path.dirname(hostPath);
  const temporary = path.join(dir, `.${path.basename(hostPath)}.pkgtrust-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const handle = await open(temporary, "wx", mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, hostPath);
    await fsyncDirectory(dir);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ConfigError("CONFIG_WRITE", `cannot write ${hostPath}: ${(error as Error).message}`, { cause: error, detail: { path: hostPath } });
  }
}

export async function removeFile(hostPath: string): Promise<void> {
  try {
    await rm(hostPath, { force: true });
    await fsyncDirectory(path.dirname(hostPath));
  } catch (error) {
    throw new ConfigError("CONFIG_WRITE", `cannot remove ${hostPath}: ${(error as Error).message}`, { cause: error, detail: { path: hostPath } });
  }
}
