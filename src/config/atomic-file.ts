import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "./errors.js";

/**
 * A file-system failure as a coded error that names its real cause: a read-only, full or
 * immutable target (chattr +i, chflags schg) is not a bug, and the user needs to know which.
 */
export function fileSystemError(action: string, hostPath: string, error: unknown): InstanceType<typeof ConfigError> {
  const errno = (error as NodeJS.ErrnoException).code ?? "";
  const code =
    errno === "EACCES" || errno === "EPERM"
      ? "CONFIG_PERMISSION"
      : errno === "ENOSPC" || errno === "EDQUOT"
        ? "CONFIG_NO_SPACE"
        : errno === "EROFS"
          ? "CONFIG_READ_ONLY"
          : "CONFIG_WRITE";
  return new ConfigError(code, `cannot ${action} ${hostPath}: ${(error as Error).message}`, { cause: error, detail: { path: hostPath, errno } });
}

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

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The directories missing above and at `dir`, outermost first: what makeDirectories would create. */
export async function missingDirectories(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let current = dir;
  while ((await stat(current).catch(() => undefined)) === undefined && current !== path.dirname(current)) {
    missing.unshift(current);
    current = path.dirname(current);
  }
  return missing;
}

/** Creates missing directories and returns those it created, outermost first. */
export async function makeDirectories(dir: string, mode = 0o755): Promise<string[]> {
  const created = await missingDirectories(dir);
  try {
    if (created.length > 0) await mkdir(dir, { recursive: true, mode });
  } catch (error) {
    throw fileSystemError("create the directory", dir, error);
  }
  return created;
}

/**
 * Creates the missing directories up to `dir` with `fill` done inside before any of them
 * appears: they are built under a temporary name in the deepest existing ancestor and renamed
 * into place, so that a kill leaves no new directory or a filled one (or the temporary one,
 * which recovery removes). Returns the directories created, outermost first; [] when `dir`
 * already existed, or another run made it first (`fill` did not count then).
 */
export async function makeFilledDirectories(dir: string, fill: (built: string) => Promise<void>, mode = 0o755): Promise<string[]> {
  const missing = await missingDirectories(dir);
  const top = missing[0];
  if (top === undefined) return [];
  const temporary = temporaryPath(top);
  const built = path.join(temporary, path.relative(top, dir));
  try {
    await mkdir(built, { recursive: true, mode });
    await fill(built);
    await rename(temporary, top);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    // rename(2) onto a directory that is there by now and not empty: another run made it.
    if (code === "ENOTEMPTY" || code === "EEXIST") return [];
    throw fileSystemError("create the directory", dir, error);
  }
  await fsyncDirectory(path.dirname(top)).catch(() => undefined);
  return missing;
}

/** `.NAME.pkgtrust-tmp-PID-RANDOM` beside a file: what an interrupted write leaves behind. */
export const TEMPORARY_NAME = /^\..+\.pkgtrust-tmp-(\d+)-[0-9a-f]{8}$/;

export function temporaryPath(hostPath: string): string {
  return path.join(path.dirname(hostPath), `.${path.basename(hostPath)}.pkgtrust-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes a new file that no other name refers to yet; removed again on failure. */
export async function writeTemporary(hostPath: string, bytes: Uint8Array, mode: number): Promise<string> {
  const temporary = temporaryPath(hostPath);
  try {
    const handle = await open(temporary, "wx", mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temporary;
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw fileSystemError("write", hostPath, error);
  }
}

/**
 * Replaces a file so that a crash at any moment leaves either the old or the new
 * contents: temporary file in the same directory, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(hostPath: string, bytes: Uint8Array, mode: number): Promise<void> {
  const temporary = await writeTemporary(hostPath, bytes, mode);
  try {
    await rename(temporary, hostPath);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw fileSystemError("replace", hostPath, error);
  }
  try {
    await fsyncDirectory(path.dirname(hostPath));
  } catch (error) {
    throw fileSystemError("sync the directory of", hostPath, error);
  }
}

export async function removeFile(hostPath: string): Promise<void> {
  try {
    await unlink(hostPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    await fsyncDirectory(path.dirname(hostPath));
  } catch (error) {
    throw fileSystemError("remove", hostPath, error);
  }
}
