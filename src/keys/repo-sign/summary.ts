import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { summaryBlocks, summaryFileName } from "../../package/pkg-summary.js";
import { writeFileAtomic } from "../../config/atomic-file.js";
import { PkgtrustError } from "../../errors.js";
import { compress, decompress, SUMMARY_FILES, type Compression } from "./compression.js";
import { RepoSignError } from "./errors.js";

/**
 * The repository's pkg_summary.gz/.bz2/.xz, read before anything is signed (a damaged one
 * or a missing compressor stops the run while nothing has changed) and rewritten at the
 * end with the new FILE_SIZE and FILE_CKSUM of each changed package; every other line
 * keeps its bytes (the text is handled as latin1, one character per byte).
 */

/** A real summary of 30,000 packages unpacks to about 60 MiB. */
const MAX_UNPACKED = 512 * 1024 * 1024;

/** FILE_CKSUM's "ALGORITHM HEX" (pkg_summary-utils writes "sha512 <hex>"), as digest(1) names them. */
const CKSUM_ALGORITHMS: Readonly<Record<string, string>> = { md5: "md5", sha1: "sha1", sha256: "sha256", sha384: "sha384", sha512: "sha512", rmd160: "ripemd160" };
const CKSUM_LINE = /^FILE_CKSUM=(\S+) ([0-9A-Fa-f]+)$/;

export interface SummaryFile {
  readonly name: string;
  readonly compression: Compression;
  readonly text: string;
  /** node:crypto algorithms its FILE_CKSUM lines use. */
  readonly digests: ReadonlySet<string>;
  /** Entries (blocks) it lists. */
  readonly entries: number;
}

export interface NewFile {
  readonly size: number;
  readonly digests: Readonly<Record<string, string>>;
}

function cksumAlgorithm(token: string, source: string): string {
  const algorithm = CKSUM_ALGORITHMS[token.toLowerCase()];
  if (!algorithm) throw new RepoSignError("REPO_SUMMARY_CKSUM", `${source} has a FILE_CKSUM of algorithm '${token}'`, { detail: { file: source, algorithm: token } });
  return algorithm;
}

function parse(text: string, source: string): { entries: number; digests: Set<string> } {
  let blocks;
  try {
    blocks = summaryBlocks(text, source);
  } catch (error) {
    throw new RepoSignError("REPO_SUMMARY_UNREADABLE", (error as Error).message, { cause: error, detail: { file: source } });
  }
  const digests = new Set<string>();
  for (const block of blocks) {
    const cksum = block.fields.get("FILE_CKSUM");
    if (cksum === undefined) continue;
    const match = CKSUM_LINE.exec(`FILE_CKSUM=${cksum}`);
    if (!match) throw new RepoSignError("REPO_SUMMARY_UNREADABLE", `${source}: FILE_CKSUM '${cksum}' is not 'ALGORITHM HEX'`, { detail: { file: source } });
    digests.add(cksumAlgorithm(match[1] as string, source));
  }
  return { entries: blocks.length, digests };
}

/** Every pkg_summary variant present in DIR, unpacked. */
export async function readSummaries(dir: string): Promise<SummaryFile[]> {
  const found: SummaryFile[] = [];
  for (const { name, compression } of SUMMARY_FILES) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new RepoSignError("REPO_SUMMARY_UNREADABLE", `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error, detail: { file: name } });
    }
    const text = (await decompress(compression, bytes, MAX_UNPACKED, name)).toString("latin1");
    found.push({ name, compression, text, ...parse(text, name) });
  }
  return found;
}

/** The summary with the FILE_SIZE and FILE_CKSUM lines of the changed files replaced; `updated` counts the entries touched. */
export function rewriteSummary(summary: SummaryFile, changed: ReadonlyMap<string, NewFile>): { text: string; updated: number } {
  const lines = summary.text.split("\n");
  let updated = 0;
  for (const block of summaryBlocks(summary.text, summary.name)) {
    const file = summaryFileName(block.fields);
    const change = file === undefined ? undefined : changed.get(file);
    if (!change) continue;
    let touched = false;
    for (const index of block.lines) {
      const line = lines[index] as string;
      const cr = line.endsWith("\r") ? "\r" : "";
      const body = cr ? line.slice(0, -1) : line;
      let next = body;
      if (body.startsWith("FILE_SIZE=")) next = `FILE_SIZE=${change.size}`;
      const cksum = CKSUM_LINE.exec(body);
      if (cksum) {
        const digest = change.digests[cksumAlgorithm(cksum[1] as string, summary.name)];
        if (digest === undefined) throw new Error(`no ${cksum[1]} digest of ${file}`);
        next = `FILE_CKSUM=${cksum[1]} ${digest}`;
      }
      if (next !== body) {
        lines[index] = `${next}${cr}`;
        touched = true;
      }
    }
    if (touched) updated++;
  }
  return { text: lines.join("\n"), updated };
}

/** Compresses and atomically replaces one summary (temporary file, fsync, rename, fsync of DIR). */
export async function writeSummary(dir: string, summary: SummaryFile, text: string): Promise<void> {
  const bytes = await compress(summary.compression, Buffer.from(text, "latin1"), summary.name);
  try {
    await writeFileAtomic(path.join(dir, summary.name), bytes, 0o644);
  } catch (error) {
    throw new RepoSignError("REPO_SUMMARY_WRITE", `cannot replace ${summary.name}: ${error instanceof PkgtrustError ? error.message : String(error)}`, { cause: error, detail: { file: summary.name } });
  }
}

/** For --summary-only: the size (and digests) of every file the summaries list, read from DIR. */
export async function filesOnDisk(dir: string, summaries: readonly SummaryFile[], digests: ReadonlySet<string>): Promise<Map<string, NewFile>> {
  const names = new Set<string>();
  for (const summary of summaries) {
    for (const block of summaryBlocks(summary.text, summary.name)) {
      const file = summaryFileName(block.fields);
      // Only plain names in DIR (the same rule setup applies); "../x" is never opened.
      if (file !== undefined && /^[A-Za-z0-9_][A-Za-z0-9._+,~-]*$/.test(file)) names.add(file);
    }
  }
  const found = new Map<string, NewFile>();
  for (const file of names) {
    const full = path.join(dir, file);
    try {
      if (digests.size === 0) {
        found.set(file, { size: (await stat(full)).size, digests: {} });
        continue;
      }
      const hashes = [...digests].map((algorithm) => ({ algorithm, hash: createHash(algorithm) }));
      let size = 0;
      for await (const chunk of createReadStream(full, { highWaterMark: 1024 * 1024 })) {
        size += (chunk as Buffer).length;
        for (const { hash } of hashes) hash.update(chunk as Buffer);
      }
      found.set(file, { size, digests: Object.fromEntries(hashes.map(({ algorithm, hash }) => [algorithm, hash.digest("hex")])) });
    } catch {
      // A listed file that is missing keeps its entry as it is.
    }
  }
  return found;
}
