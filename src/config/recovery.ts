import { lstat, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { fileSystemError, missingDirectories, removeFile } from "./atomic-file.js";
import { ConfigError } from "./errors.js";
import { PKGIN_REPOSITORIES, stateLayout } from "./layout.js";
import { acquireLock, inspectLock, isDeadTemporary } from "./lock.js";
import type { TargetRoot } from "./target-root.js";
import { FileTransaction, type RollbackReport } from "./transaction.js";

/** What the recovery of a killed run did. */
export interface Recovery {
  /** The unfinished transaction, put back from its journal. */
  readonly rolledBack?: { readonly pid: number; readonly startedAt: string; readonly report: RollbackReport };
  /** Temporary files of dead runs that were removed (target paths). */
  readonly removed: readonly string[];
  /** Directories the killed run made (target paths): removed once empty, after the lock is gone. */
  readonly directories: readonly string[];
}

/**
 * Every directory pkgtrust writes into for this configuration (target paths), and the deepest
 * existing one above its state directory, where a missing one is built (makeFilledDirectories).
 */
async function writtenDirectories(root: TargetRoot, configPath: string): Promise<string[]> {
  const layout = stateLayout(configPath);
  const repositories = path.posix.join(layout.dir, "repositories");
  const ids = await root.list(repositories);
  const top = (await missingDirectories(root.hostPath(layout.dir)))[0];
  const builtIn = top === undefined ? [] : [root.targetPathOf(path.dirname(top))];
  return [path.posix.dirname(configPath), layout.dir, ...ids.map((id) => path.posix.join(repositories, id)), path.posix.dirname(PKGIN_REPOSITORIES), ...builtIn];
}

/** Temporary files whose writer is dead (isDeadTemporary). */
async function deadTemporaries(root: TargetRoot, configPath: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of new Set(await writtenDirectories(root, configPath))) {
    for (const name of await root.list(dir)) {
      if (isDeadTemporary(name)) found.push(path.posix.join(dir, name));
    }
  }
  return found;
}

/** A temporary file, or a directory being built when its run was killed. */
async function removeTemporary(hostPath: string): Promise<void> {
  if ((await lstat(hostPath).catch(() => undefined))?.isDirectory()) {
    await rm(hostPath, { recursive: true, force: true }).catch((error: unknown) => Promise.reject(fileSystemError("remove", hostPath, error)));
  } else {
    await removeFile(hostPath);
  }
}

/**
 * What a killed run left behind: its journal (the files may be half old, half new until it
 * is rolled back), or only debris (its lock, temporary files), or nothing.
 */
export async function interruptedRunLeftovers(root: TargetRoot, configPath: string): Promise<"journal" | "debris" | undefined> {
  const layout = stateLayout(configPath);
  if ((await FileTransaction.interrupted(root, layout.journal)) !== undefined) return "journal";
  if ((await inspectLock(await root.writablePath(layout.lock))) === "stale") return "debris";
  return (await deadTemporaries(root, configPath)).length > 0 ? "debris" : undefined;
}

/**
 * Completes what a killed run left, under the lock: its unfinished transaction is rolled back
 * from the journal (so the files are the old set again), its temporary files removed. When a
 * file cannot be put back, CONFIG_ROLLBACK_FAILED names it and the journal stays for the next try.
 */
export async function recoverInterrupted(root: TargetRoot, configPath: string): Promise<Recovery> {
  const transaction = await FileTransaction.interrupted(root, stateLayout(configPath).journal);
  let rolledBack: Recovery["rolledBack"];
  if (transaction?.origin) {
    const report = await transaction.rollback();
    if (report.notRestored.length > 0) {
      const list = report.notRestored.map((entry) => `${entry.path} (${entry.message})`).join("; ");
      throw new ConfigError("CONFIG_ROLLBACK_FAILED", `a killed pkgtrust run (pid ${transaction.origin.pid}) left files that cannot be put back: ${list}`, {
        detail: { journal: stateLayout(configPath).journal, files: report.notRestored.map((entry) => entry.path).join(" ") },
      });
    }
    rolledBack = { pid: transaction.origin.pid, startedAt: transaction.origin.startedAt, report };
  }
  const removed = await deadTemporaries(root, configPath);
  // Resolved inside the root: a directory linked elsewhere never has its files removed.
  for (const file of removed) await removeTemporary((await root.resolve(file)).hostPath);
  return { ...(rolledBack ? { rolledBack } : {}), removed, directories: transaction?.origin?.directories ?? [] };
}

/**
 * After a recovery, once the lock is released: the directories the killed run made, and
 * pkgtrust's own directories, go when they are empty (a run killed before its journal was
 * written leaves its state directory with nothing but the lock it held).
 */
export async function removeEmptyDirectories(root: TargetRoot, configPath: string, recovery: Recovery | undefined): Promise<void> {
  if (recovery === undefined) return;
  const layout = stateLayout(configPath);
  const repositories = path.posix.join(layout.dir, "repositories");
  const ids = await root.list(repositories);
  const candidates = new Set([...recovery.directories, ...ids.map((id) => path.posix.join(repositories, id)), repositories, layout.dir]);
  for (const dir of [...candidates].sort((a, b) => b.split("/").length - a.split("/").length)) await rmdir((await root.resolve(dir)).hostPath).catch(() => undefined);
}

/**
 * For commands that read the configuration (status, refresh, setup before it locks): recover
 * first when a killed run left anything. Debris alone does not make the files inconsistent,
 * so a run that may not write (status as a user), or that finds the lock held, reads on.
 */
export async function settleInterruptedRun(root: TargetRoot, configPath: string): Promise<Recovery | undefined> {
  const leftovers = await interruptedRunLeftovers(root, configPath);
  if (leftovers === undefined) return undefined;
  const lock = await acquireLock(await root.writablePath(stateLayout(configPath).lock)).catch((error: unknown) => {
    // Debris of a dead run is cleared by whoever holds the lock; this reader can do without.
    if (leftovers === "debris" && error instanceof ConfigError && ["CONFIG_PERMISSION", "CONFIG_READ_ONLY", "CONFIG_LOCKED"].includes(error.code)) return undefined;
    throw error;
  });
  if (lock === undefined) return undefined;
  let recovery: Recovery | undefined;
  try {
    recovery = await recoverInterrupted(root, configPath);
    return recovery;
  } finally {
    await lock.release();
    await removeEmptyDirectories(root, configPath, recovery);
  }
}

/** One line for reports; undefined when nothing was left behind. */
export function recoveryNotice(recovery: Recovery | undefined): string | undefined {
  if (recovery === undefined) return undefined;
  const parts: string[] = [];
  if (recovery.rolledBack) {
    const { pid, startedAt, report } = recovery.rolledBack;
    parts.push(`the pkgtrust run ${pid} started at ${startedAt} was interrupted: ${report.restored.length > 0 ? `put back ${report.restored.join(", ")}` : "it had changed nothing yet"}`);
  }
  if (recovery.removed.length > 0) parts.push(`removed the temporary files of killed runs: ${recovery.removed.join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}
