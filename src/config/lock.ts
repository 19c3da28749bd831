import { createHash } from "node:crypto";
import { link, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { TEMPORARY_NAME, fileSystemError, makeFilledDirectories, writeTemporary } from "./atomic-file.js";
import { ConfigError } from "./errors.js";

/**
 * How long a lock file without a complete "PID\n" counts as held: it may be a run that has
 * just created it (older pkgtrust versions wrote the pid after creating the file).
 */
export const LOCK_GRACE_MS = 10_000;

/** Takeovers of takeovers: deeper means a run was killed inside each of them. */
const MAX_TAKEOVER_DEPTH = 2;

export interface Lock {
  /** Host paths of the directories made for the lock, outermost first; they go on release unless filled. */
  readonly created: readonly string[];
  release(): Promise<void>;
}

/** A lock-like file as seen once: its identity (device, inode, change time) and owner. */
interface Seen {
  readonly id: string;
  /** The pid written in it, when it holds a complete "PID\n". */
  readonly pid?: number;
  readonly mtimeMs: number;
}

/** kill(pid, 0): a process we may not signal still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether `name` is a temporary file (atomic-file.ts) whose writer is dead: a killed run's, never a live one's. */
export function isDeadTemporary(name: string): boolean {
  const pid = TEMPORARY_NAME.exec(name)?.[1];
  return pid !== undefined && !processAlive(Number(pid));
}

/** The file at `hostPath` now; undefined when there is none. Read between two stats, so the content belongs to the identity. */
async function look(hostPath: string): Promise<Seen | undefined> {
  for (let tries = 0; ; tries++) {
    const before = await stat(hostPath, { bigint: true }).catch(() => undefined);
    if (before === undefined) return undefined;
    const text = await readFile(hostPath, "utf8").catch(() => "");
    const after = await stat(hostPath, { bigint: true }).catch(() => undefined);
    if (after === undefined) return undefined;
    if ((after.ino !== before.ino || after.ctimeNs !== before.ctimeNs) && tries < 100) continue;
    const match = /^(\d+)\n/.exec(text);
    const pid = match ? Number(match[1]) : undefined;
    return { id: `${after.dev}-${after.ino}-${after.ctimeNs}`, mtimeMs: Number(after.mtimeMs), ...(pid !== undefined && pid > 0 ? { pid } : {}) };
  }
}

/** A lock whose owner is gone: a dead pid, or no complete pid long after it was made. */
function isStale(seen: Seen): boolean {
  if (seen.pid !== undefined) return !processAlive(seen.pid);
  return Date.now() - seen.mtimeMs > LOCK_GRACE_MS;
}

/** Creates `target` as a second name of `source` (our pid file); false when it exists. */
async function claim(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw fileSystemError("create the lock", target, error);
  }
}

/** The takeover marker of exactly one stale file: only one run can create it (link(2) is atomic). */
const markerOf = (hostPath: string, seen: Seen) => `${hostPath}.takeover-${createHash("sha256").update(seen.id).digest("hex").slice(0, 12)}`;

/**
 * Replaces the stale file `seen` at `hostPath` with `replace`, atomically against every other
 * run: the run that creates the marker for exactly this file (device, inode, change time)
 * judges it again and renames over it; the others back off. A marker left by a run killed
 * in between is itself stale and taken over the same way.
 */
async function takeOver(hostPath: string, seen: Seen, pidFile: string, replace: () => Promise<void>, depth: number): Promise<boolean> {
  const marker = markerOf(hostPath, seen);
  while (!(await claim(pidFile, marker))) {
    const holder = await look(marker);
    if (holder === undefined) continue;
    if (!isStale(holder) || depth >= MAX_TAKEOVER_DEPTH) return false;
    if (!(await takeOver(marker, holder, pidFile, () => unlink(marker), depth + 1))) return false;
  }
  try {
    const now = await look(hostPath);
    if (now === undefined || now.id !== seen.id || !isStale(now)) return false;
    await replace();
    return true;
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

/**
 * Takes an exclusive lock file holding our pid, so that two runs never interleave their
 * writes. The file appears with its content at once (written aside, then link(2)), so it is
 * never seen empty; a lock whose owner is dead, or one left without a pid for longer than
 * LOCK_GRACE_MS, is taken over atomically (takeOver).
 */
export async function acquireLock(hostPath: string): Promise<Lock> {
  const dir = path.dirname(hostPath);
  const content = Buffer.from(`${process.pid}\n`);
  // A missing directory appears with the lock in it, never empty (a kill in between would
  // leave a directory nobody knows to remove); it goes again on release unless the run filled it.
  const created = await makeFilledDirectories(dir, (built) => writeFile(path.join(built, path.basename(hostPath)), content, { mode: 0o644 }));
  if (created.length > 0) return held(hostPath, (await stat(hostPath, { bigint: true })).ino, created);
  const pidFile = await writeTemporary(hostPath, content, 0o644);
  const mine = (await stat(pidFile, { bigint: true })).ino;
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if ((await claim(pidFile, hostPath)) || (await takeOverIfStale(hostPath, pidFile))) return held(hostPath, mine, []);
    }
    throw new ConfigError("CONFIG_LOCKED", `another pkgtrust run is taking over the stale lock ${hostPath}`, { detail: { lock: hostPath } });
  } finally {
    // Our pid file is the lock now (a second name of it), or nothing.
    await rm(pidFile, { force: true }).catch(() => undefined);
  }
}

function held(hostPath: string, mine: bigint, created: readonly string[]): Lock {
  return {
    created,
    async release() {
      // Only our own lock: never one another run took over meanwhile.
      const current = await stat(hostPath, { bigint: true }).catch(() => undefined);
      if (current?.ino === mine) await unlink(hostPath).catch((error: unknown) => Promise.reject(fileSystemError("remove the lock", hostPath, error)));
      await removeDeadLeftovers(hostPath);
      for (const made of [...created].reverse()) await rmdir(made).catch(() => undefined);
    },
  };
}

/** CONFIG_LOCKED while the lock's owner may be running; else whether this run took the lock over. */
async function takeOverIfStale(hostPath: string, pidFile: string): Promise<boolean> {
  const seen = await look(hostPath);
  if (seen === undefined) return false;
  if (!isStale(seen)) {
    const who = seen.pid === undefined ? "a run that has not written its pid yet" : `another pkgtrust run (pid ${seen.pid})`;
    throw new ConfigError("CONFIG_LOCKED", `${who} holds ${hostPath}`, { detail: { lock: hostPath, pid: seen.pid ?? null } });
  }
  const replace = () => rename(pidFile, hostPath).catch((error: unknown) => Promise.reject(fileSystemError("take over the lock", hostPath, error)));
  return takeOver(hostPath, seen, pidFile, replace, 0);
}

/**
 * What runs killed while taking the lock leave beside it: takeover markers (nothing refers
 * to them once the lock changed hands) and pid files written aside for link(2). Only those
 * of dead processes go; a live run may be about to use its own.
 */
async function removeDeadLeftovers(hostPath: string): Promise<void> {
  const dir = path.dirname(hostPath);
  const base = path.basename(hostPath);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.startsWith(`${base}.takeover-`)) {
      const seen = await look(file);
      if (seen !== undefined && isStale(seen)) await unlink(file).catch(() => undefined);
    } else if (name.startsWith(`.${base}.`) && isDeadTemporary(name)) {
      await unlink(file).catch(() => undefined);
    }
  }
}

/** Whether a lock file is there, and whether its owner is gone (recovery looks before it locks). */
export async function inspectLock(hostPath: string): Promise<"absent" | "held" | "stale"> {
  const seen = await look(hostPath);
  if (seen === undefined) return "absent";
  return isStale(seen) ? "stale" : "held";
}
