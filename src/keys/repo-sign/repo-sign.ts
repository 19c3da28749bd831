import { rm } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { summaryBlocks, summaryFileName } from "../../package/pkg-summary.js";
import { acquireLock, type Lock } from "../../config/lock.js";
import { asPkgtrustError } from "../../errors.js";
import { BlockHashPool } from "../../package/parallel-block-hasher.js";
import { PackageCache } from "../../package/package-cache.js";
import { bundleWarning } from "./bundle-check.js";
import { RepoSignError } from "./errors.js";
import type { SigningIdentity } from "./identity.js";
import { failed, processPackage, type JobContext, type Outcome } from "./package-job.js";
import { ReadBuffers } from "./read-buffers.js";
import { runOnThreads } from "./job-threads.js";
import { syncDirectory } from "./replacement.js";
import { isSummaryTemporary, scanRepository, type Listed } from "./scan.js";
import { filesOnDisk, readSummaries, rewriteSummary, writeSummary, type NewFile, type SummaryFile } from "./summary.js";

/**
 * `pkgtrust repo sign`: every package of a repository directory signed or re-signed by
 * one process. The order of writes, which keeps the repository usable at every moment:
 *   1. nothing before every check passed (signer, summaries readable, compressors there);
 *   2. each package replaced on its own by rename(2), after its data is fsync'd;
 *   3. DIR fsync'd (every 256 renames and at the end), so no rename is lost under a summary;
 *   4. then each pkg_summary, atomically, with the new sizes.
 */

export interface RepoSignRequest {
  /** Absolute path of the repository's All directory. */
  readonly dir: string;
  readonly identity: SigningIdentity;
  /** The files named on the command line, for advice in messages. */
  readonly files: { readonly anchor: string; readonly cert: string; readonly chain?: string };
  readonly jobs: number;
  readonly force: boolean;
  readonly dryRun: boolean;
  /** --expired-grace-days: an old signer expired at most this long ago still has its packages re-signed. */
  readonly expiredGraceDays: number;
  /** --files: the only package files this run owns (one machine's share). */
  readonly only?: ReadonlySet<string>;
  /** False for a shard (--no-summary): `repo summary` rewrites the summaries once every shard is done. */
  readonly summary: boolean;
  /**
   * With more than one job: run the package jobs on `jobs` threads started from `entry` (the
   * CLI's own file), each rebuilding the identity from these inputs. Without it, one thread
   * signs and `jobs` threads hash (an in-process caller such as the tests).
   */
  readonly threads?: { readonly entry: string; readonly keyPem: string; readonly certPem: string; readonly chainPem?: string; readonly minDays: number };
  readonly time: Date;
  readonly onEvent?: (event: RepoSignEvent) => void;
}

export type RepoSignEvent =
  | { readonly type: "started"; readonly packages: number; readonly bytes: number }
  | { readonly type: "progress"; readonly done: number; readonly packages: number; readonly bytes: number; readonly totalBytes: number }
  | { readonly type: "package"; readonly outcome: Outcome };

export interface SummaryReport {
  readonly file: string;
  readonly entries: number;
  readonly updated: number;
  readonly written: boolean;
  readonly code?: string;
  readonly message?: string;
}

export interface RepoSignReport {
  readonly dir: string;
  readonly dryRun: boolean;
  readonly outcomes: readonly Outcome[];
  readonly nonPackages: readonly Listed[];
  readonly summaries: readonly SummaryReport[];
  /** Our own leftovers from a killed run, removed. */
  readonly cleaned: readonly string[];
  readonly warnings: readonly string[];
  readonly bytes: { readonly read: number; readonly written: number };
  readonly timings: { readonly prepareMs: number; readonly packagesMs: number; readonly summariesMs: number; readonly totalMs: number };
}

const SYNC_EVERY = 256;
const IN_FLIGHT_PER_JOB = 4;

function lockName(only: ReadonlySet<string> | undefined): string {
  // Shards on one host lock their own list; the full run and the summary step lock the directory.
  if (!only) return ".pkgtrust-repo-sign.lock";
  return `.pkgtrust-repo-sign-${createHash("sha256").update([...only].sort().join("\n")).digest("hex").slice(0, 12)}.lock`;
}

async function runPackages(request: RepoSignRequest, packages: readonly { file: string; size: number }[], digests: readonly string[], onCommit: () => Promise<void>): Promise<{ outcomes: Outcome[]; read: number }> {
  let read = 0;
  const totalBytes = packages.reduce((sum, p) => sum + p.size, 0);
  const outcomes: Outcome[] = [];
  const onRead = (bytes: number) => {
    read += bytes;
    request.onEvent?.({ type: "progress", done: outcomes.length, packages: packages.length, bytes: read, totalBytes });
  };
  const record = async (outcome: Outcome) => {
    if (outcome.kind === "signed" || outcome.kind === "resigned") await onCommit();
    outcomes.push(outcome);
    request.onEvent?.({ type: "package", outcome });
    request.onEvent?.({ type: "progress", done: outcomes.length, packages: packages.length, bytes: read, totalBytes });
  };
  request.onEvent?.({ type: "started", packages: packages.length, bytes: totalBytes });
  if (request.threads && request.jobs > 1) {
    const { entry, ...identity } = request.threads;
    const setup = { dir: request.dir, ...identity, anchorDers: request.identity.anchors.map((c) => c.der), time: request.time.getTime(), force: request.force, dryRun: request.dryRun, expiredGraceDays: request.expiredGraceDays, digests };
    await runOnThreads(packages.map((p) => p.file), { entry, threads: request.jobs, setup, onRead, onOutcome: record });
    return { outcomes, read };
  }
  // In process: this thread signs, --jobs threads hash; four packages in flight per thread, so
  // that the reads, fsyncs and renames of small packages overlap while this thread parses and signs.
  const pool = new BlockHashPool(request.jobs);
  const context: JobContext = {
    dir: request.dir,
    identity: request.identity,
    trust: { anchors: request.identity.anchors, chain: request.identity.chain },
    cache: new PackageCache(),
    time: request.time,
    pool,
    force: request.force,
    dryRun: request.dryRun,
    expiredGraceDays: request.expiredGraceDays,
    digests,
    onRead,
    readBuffers: new ReadBuffers(),
  };
  let next = 0;
  const worker = async () => {
    for (let item = packages[next++]; item; item = packages[next++]) await record(await processPackage(context, item.file));
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(IN_FLIGHT_PER_JOB * request.jobs, packages.length)) }, worker));
  } finally {
    await pool.close();
  }
  return { outcomes, read };
}

/**
 * The size and digests of every package signed by us, changed now or skipped (a killed run
 * may have renamed it without rewriting the summary), and of each symlink alias to one.
 * Only lines that differ are rewritten.
 */
function changedFiles(outcomes: readonly Outcome[], aliases: ReadonlyMap<string, string>, withSkipped: boolean): Map<string, NewFile> {
  const changed = new Map<string, NewFile>();
  for (const outcome of outcomes) {
    if (outcome.kind === "signed" || outcome.kind === "resigned") changed.set(outcome.file, { size: outcome.newSize, digests: outcome.digests });
    if (outcome.kind === "skipped" && withSkipped) changed.set(outcome.file, { size: outcome.size, digests: outcome.digests });
  }
  for (const [alias, target] of aliases) {
    const change = changed.get(target);
    if (change) changed.set(alias, change);
  }
  return changed;
}

async function updateSummaries(dir: string, summaries: readonly SummaryFile[], changed: ReadonlyMap<string, NewFile>, dryRun: boolean): Promise<SummaryReport[]> {
  const reports: SummaryReport[] = [];
  for (const summary of summaries) {
    if (dryRun) {
      const updated = summaryBlocks(summary.text, summary.name).filter((b) => changed.has(summaryFileName(b.fields) ?? "")).length;
      reports.push({ file: summary.name, entries: summary.entries, updated, written: false });
      continue;
    }
    try {
      const { text, updated } = rewriteSummary(summary, changed);
      if (updated > 0) await writeSummary(dir, summary, text);
      reports.push({ file: summary.name, entries: summary.entries, updated, written: updated > 0 });
    } catch (error) {
      const coded = asPkgtrustError(error);
      reports.push({ file: summary.name, entries: summary.entries, updated: 0, written: false, code: coded.code, message: coded.message });
    }
  }
  return reports;
}

async function removeLeftovers(dir: string, names: readonly string[]): Promise<string[]> {
  for (const name of names) await rm(path.join(dir, name), { force: true });
  return [...names];
}

export interface RepoSummaryReport {
  readonly dir: string;
  readonly summaries: readonly SummaryReport[];
  readonly cleaned: readonly string[];
}

/**
 * `pkgtrust repo summary`: the final step after shards signed their share with
 * --no-summary. FILE_SIZE comes from each listed file's size; FILE_CKSUM, where entries
 * have it, from reading the file again (the only cost that grows with the repository).
 */
export async function repoSummary(request: { readonly dir: string; readonly dryRun: boolean }): Promise<RepoSummaryReport> {
  const { dir } = request;
  const lock = request.dryRun ? undefined : await acquireLock(path.join(dir, lockName(undefined)));
  try {
    const summaries = await readSummaries(dir);
    const digests = new Set(summaries.flatMap((s) => [...s.digests]));
    const cleaned = request.dryRun ? [] : await removeLeftovers(dir, (await scanRepository(dir)).leftovers.filter(isSummaryTemporary));
    const reports = await updateSummaries(dir, summaries, await filesOnDisk(dir, summaries, digests), request.dryRun);
    return { dir, summaries: reports, cleaned };
  } finally {
    await lock?.release();
  }
}

export async function repoSign(request: RepoSignRequest): Promise<RepoSignReport> {
  const started = Date.now();
  const { dir } = request;
  let lock: Lock | undefined;
  try {
    if (!request.dryRun) lock = await acquireLock(path.join(dir, lockName(request.only)));
    // Read everything that could stop the run before the first write.
    const summaries = request.summary ? await readSummaries(dir) : [];
    const digests = [...new Set(summaries.flatMap((s) => [...s.digests]))];
    const scan = await scanRepository(dir, request.only);
    const warning = await bundleWarning(dir, request.identity, request.files);
    const cleaned = request.dryRun ? [] : await removeLeftovers(dir, scan.leftovers);
    const prepared = Date.now();
    let outcomes: Outcome[] = scan.failures.map((f) => failed(f.file, new RepoSignError(f.code, f.message, { detail: { file: f.file } })));
    let commits = 0;
    let syncing = Promise.resolve();
    const onCommit = async () => {
      if (++commits % SYNC_EVERY === 0) await (syncing = syncing.then(() => syncDirectory(dir)));
    };
    const run = await runPackages(request, scan.packages, digests, onCommit);
    outcomes = [...outcomes, ...run.outcomes];
    await syncing;
    // Every rename is durable before a summary describes it.
    if (commits > 0) await syncDirectory(dir);
    const signedDone = Date.now();
    const summaryReports = await updateSummaries(dir, summaries, changedFiles(outcomes, scan.aliases, !request.dryRun), request.dryRun);
    const finished = Date.now();
    const written = request.dryRun ? 0 : outcomes.reduce((sum, o) => sum + (o.kind === "signed" || o.kind === "resigned" ? o.newSize : 0), 0);
    return {
      dir,
      dryRun: request.dryRun,
      outcomes,
      nonPackages: scan.nonPackages,
      summaries: summaryReports,
      cleaned,
      warnings: [...(warning ? [warning] : []), ...outcomes.flatMap((o) => (o.kind === "signed" || o.kind === "resigned" ? o.warnings : []))],
      bytes: { read: run.read, written },
      timings: { prepareMs: prepared - started, packagesMs: signedDone - prepared, summariesMs: finished - signedDone, totalMs: finished - started },
    };
  } finally {
    await lock?.release();
  }
}
