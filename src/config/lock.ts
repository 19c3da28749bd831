import { open, readFile, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { makeDirectories } from "./atomic-file.js";
import { ConfigError } from "./errors.js";

export interface Lock {
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes an exclusive lock file holding our pid, so that two runs never interleave their
 * writes. A lock left by a process that no longer exists is taken over.
 */
export async function acquireLock(hostPath: string): Promise<Lock> {
  // Directories made for the lock go again on release unless the run filled them.
  const created = await makeDirectories(path.dirname(hostPath));
  const release = async () => {
    await rm(hostPath, { force: true });
    for (const dir of created.reverse()) await rmdir(dir).catch(() => undefined);
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(hostPath, "wx", 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ConfigError("CONFIG_WRITE", `cannot create the lock ${hostPath}: ${(error as Error).message}`, { cause: error });
      }
    }
    const holder = Number.parseInt(await readFile(hostPath, "utf8").catch(() => ""), 10);
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new ConfigError("CONFIG_LOCKED", `another pkgtrust run (pid ${holder}) holds ${hostPath}`, { detail: { lock: hostPath, pid: holder } });
    }
    await rm(hostPath, { force: true });
  }
  throw new ConfigError("CONFIG_LOCKED", `cannot take the lock ${hostPath}`, { detail: { lock: hostPath } });
}
