import { rmdir } from "node:fs/promises";
import path from "node:path";
import { makeDirectories, modeIfExists, readIfExists, removeFile, writeFileAtomic } from "./atomic-file.js";
import { ConfigError } from "./errors.js";
import type { TargetRoot } from "./target-root.js";

/** Suffix of the copy of a file's previous contents that pkgtrust keeps beside it. */
export const BACKUP_SUFFIX = ".pkgtrust-old";

export interface FileChange {
  /** The path as the target system sees it. */
  readonly targetPath: string;
  readonly content: Uint8Array;
  /** Mode for a new file; an existing file keeps its mode. */
  readonly mode?: number;
  /** Keep the previous contents in `<file>.pkgtrust-old`. */
  readonly backup?: boolean;
}

export interface ChangeOutcome {
  readonly targetPath: string;
  readonly status: "created" | "updated" | "unchanged";
}

interface Undo {
  readonly hostPath: string;
  readonly previous: Buffer | undefined;
  readonly mode: number | undefined;
}

/**
 * Applies a set of file changes so that a failure at any later point can put every
 * file back to its exact previous bytes (or remove it when it did not exist).
 */
export class FileTransaction {
  private readonly undo: Undo[] = [];
  private readonly createdDirectories: string[] = [];

  constructor(private readonly root: TargetRoot) {}

  async apply(changes: readonly FileChange[]): Promise<ChangeOutcome[]> {
    const outcomes: ChangeOutcome[] = [];
    try {
      for (const change of changes) outcomes.push(await this.applyOne(change));
    } catch (error) {
      await this.rollback();
      throw error;
    }
    return outcomes;
  }

  private async applyOne(change: FileChange): Promise<ChangeOutcome> {
    const hostPath = await this.root.writablePath(change.targetPath);
    const previous = await readIfExists(hostPath);
    // Idempotence: an identical second run touches nothing, not even the backup.
    if (previous !== undefined && previous.equals(change.content)) return { targetPath: change.targetPath, status: "unchanged" };
    const previousMode = previous === undefined ? undefined : await modeIfExists(hostPath);
    this.createdDirectories.push(...(await makeDirectories(path.dirname(hostPath))));
    if (change.backup && previous !== undefined) {
      const backupPath = hostPath + BACKUP_SUFFIX;
      await this.remember(backupPath);
      await writeFileAtomic(backupPath, previous, previousMode ?? 0o644);
    }
    this.undo.push({ hostPath, previous, mode: previousMode });
    await writeFileAtomic(hostPath, change.content, previousMode ?? change.mode ?? 0o644);
    return { targetPath: change.targetPath, status: previous === undefined ? "created" : "updated" };
  }

  private async remember(hostPath: string): Promise<void> {
    const previous = await readIfExists(hostPath);
    this.undo.push({ hostPath, previous, mode: previous === undefined ? undefined : await modeIfExists(hostPath) });
  }

  /** Restores every file touched, newest first; directories it created are removed again. */
  async rollback(): Promise<void> {
    const failures: string[] = [];
    for (const entry of this.undo.reverse()) {
      try {
        if (entry.previous === undefined) await removeFile(entry.hostPath);
        else await writeFileAtomic(entry.hostPath, entry.previous, entry.mode ?? 0o644);
      } catch {
        failures.push(entry.hostPath);
      }
    }
    this.undo.length = 0;
    for (const dir of this.createdDirectories.reverse()) await rmdir(dir).catch(() => undefined);
    this.createdDirectories.length = 0;
    if (failures.length > 0) {
      throw new ConfigError("CONFIG_ROLLBACK_FAILED", `could not restore ${failures.join(", ")}`, { detail: { files: failures.join(" ") } });
    }
  }

  /** Forgets the undo log once the whole operation succeeded. */
  commit(): void {
    this.undo.length = 0;
    this.createdDirectories.length = 0;
  }
}
