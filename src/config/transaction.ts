import { createHash } from "node:crypto";
import { rmdir } from "node:fs/promises";
import path from "node:path";
import { PkgtrustError } from "../errors.js";
import { makeDirectories, missingDirectories, modeIfExists, readIfExists, removeFile, writeFileAtomic } from "./atomic-file.js";
import { ConfigError } from "./errors.js";
import { readJournal, removeJournal, writeJournal, type Journal, type JournalEntry } from "./journal.js";
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

export interface NotRestored {
  /** Target path. */
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** What a rollback did: exactly the files put back, and those it could not put back, with why. */
export interface RollbackReport {
  readonly restored: readonly string[];
  readonly notRestored: readonly NotRestored[];
}

interface Write {
  readonly hostPath: string;
  readonly content: Uint8Array;
  readonly mode: number;
  readonly entry: JournalEntry;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const sameBytes = (a: Buffer | undefined, b: Buffer | undefined) => (a === undefined || b === undefined ? a === b : a.equals(b));

/**
 * Applies a set of file changes as one unit: an undo journal (journal.ts) is written before
 * the first file is touched and removed by commit(), so that a failure - or a kill, through
 * the next run's recovery - puts every changed file back to its exact previous bytes (or
 * removes it when it did not exist), and only the files this run changed.
 */
export class FileTransaction {
  private journal?: { readonly hostPath: string; readonly value: Journal };
  private report?: RollbackReport;

  constructor(
    private readonly root: TargetRoot,
    /** Target path of the journal. */
    private readonly journalPath: string,
    /** Host paths of directories made for this run before the transaction (the lock's), to go with it. */
    private readonly madeBefore: readonly string[] = [],
  ) {}

  /** The transaction a killed run left unfinished, to be rolled back; undefined when there is none. */
  static async interrupted(root: TargetRoot, journalPath: string): Promise<FileTransaction | undefined> {
    const hostPath = await root.writablePath(journalPath);
    const value = await readJournal(hostPath);
    if (value === undefined) return undefined;
    const transaction = new FileTransaction(root, journalPath);
    transaction.journal = { hostPath, value };
    return transaction;
  }

  /** The unfinished run's pid and start, and the directories it made (target paths), for recovery. */
  get origin(): { readonly pid: number; readonly startedAt: string; readonly directories: readonly string[] } | undefined {
    return this.journal && { pid: this.journal.value.pid, startedAt: this.journal.value.startedAt, directories: this.journal.value.directories };
  }

  async apply(changes: readonly FileChange[]): Promise<ChangeOutcome[]> {
    const outcomes: ChangeOutcome[] = [];
    const writes: Write[] = [];
    // Every path is resolved and read before anything is written.
    for (const change of changes) {
      const hostPath = await this.root.writablePath(change.targetPath);
      const previous = await readIfExists(hostPath);
      // Idempotence: an identical second run touches nothing, not even the backup.
      if (previous !== undefined && previous.equals(change.content)) {
        outcomes.push({ targetPath: change.targetPath, status: "unchanged" });
        continue;
      }
      const previousMode = previous === undefined ? undefined : await modeIfExists(hostPath);
      if (change.backup && previous !== undefined) writes.push(await this.write(`${this.root.targetPathOf(hostPath)}${BACKUP_SUFFIX}`, previous, previousMode ?? 0o644));
      writes.push(await this.write(this.root.targetPathOf(hostPath), change.content, previousMode ?? change.mode ?? 0o644));
      outcomes.push({ targetPath: change.targetPath, status: previous === undefined ? "created" : "updated" });
    }
    if (writes.length === 0) return outcomes;
    const hostPath = await this.root.writablePath(this.journalPath);
    const directories = new Set<string>(this.madeBefore.map((dir) => this.root.targetPathOf(dir)));
    for (const file of [hostPath, ...writes.map((w) => w.hostPath)]) {
      for (const dir of await missingDirectories(path.dirname(file))) directories.add(this.root.targetPathOf(dir));
    }
    const value: Journal = { version: 1, pid: process.pid, startedAt: new Date().toISOString(), files: writes.map((w) => w.entry), directories: [...directories] };
    await makeDirectories(path.dirname(hostPath));
    await writeJournal(hostPath, value);
    this.journal = { hostPath, value };
    try {
      for (const write of writes) {
        await makeDirectories(path.dirname(write.hostPath));
        await writeFileAtomic(write.hostPath, write.content, write.mode);
      }
    } catch (error) {
      await this.rollback();
      throw error;
    }
    return outcomes;
  }

  private async write(targetPath: string, content: Uint8Array, mode: number): Promise<Write> {
    const hostPath = await this.root.writablePath(targetPath);
    const previous = await readIfExists(hostPath);
    const entry: JournalEntry = {
      path: targetPath,
      previous: previous === undefined ? null : previous.toString("base64"),
      mode: previous === undefined ? null : ((await modeIfExists(hostPath)) ?? null),
      written: sha256(content),
    };
    return { hostPath, content, mode, entry };
  }

  /**
   * Puts back every file the transaction changed, newest first, and removes the directories
   * it created. A file it never got to, or that already holds its old bytes, is left alone.
   * What cannot be put back is reported, and the journal stays so that the next run tries
   * again; calling rollback again returns the same report.
   */
  async rollback(): Promise<RollbackReport> {
    if (this.report) return this.report;
    const restored: string[] = [];
    const notRestored: NotRestored[] = [];
    const journal = this.journal;
    if (journal) {
      for (const entry of [...journal.value.files].reverse()) {
        try {
          if (await this.restore(entry)) restored.push(entry.path);
        } catch (thrown) {
          const error = thrown instanceof PkgtrustError ? thrown : new ConfigError("CONFIG_ROLLBACK_FAILED", `cannot restore ${entry.path}: ${String(thrown)}`);
          notRestored.push({ path: entry.path, code: error.code, message: error.message });
        }
      }
      if (notRestored.length === 0) {
        // A journal that cannot be removed only makes the next run find nothing to put back.
        await removeJournal(journal.hostPath).catch(() => undefined);
        const deepestFirst = [...journal.value.directories].sort((a, b) => b.split("/").length - a.split("/").length);
        for (const dir of deepestFirst) await rmdir((await this.root.resolve(dir)).hostPath).catch(() => undefined);
      }
    }
    this.report = { restored, notRestored };
    return this.report;
  }

  /** True when the file was put back; false when it already held its old bytes. */
  private async restore(entry: JournalEntry): Promise<boolean> {
    const hostPath = await this.root.writablePath(entry.path);
    const current = await readIfExists(hostPath);
    const previous = entry.previous === null ? undefined : Buffer.from(entry.previous, "base64");
    if (sameBytes(current, previous)) return false;
    if (current !== undefined && sha256(current) !== entry.written) {
      throw new ConfigError("CONFIG_ROLLBACK_FAILED", `${entry.path} was changed by another program after pkgtrust wrote it: left as it is`, { detail: { path: entry.path } });
    }
    if (previous === undefined) await removeFile(hostPath);
    else await writeFileAtomic(hostPath, previous, entry.mode ?? 0o644);
    return true;
  }

  /** The commit point: the journal goes, and the new files stand. */
  async commit(): Promise<void> {
    if (this.journal) await removeJournal(this.journal.hostPath);
    this.journal = undefined;
  }
}
