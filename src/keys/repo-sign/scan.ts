import type { Dirent } from "node:fs";
import { lstat, readdir, realpath } from "node:fs/promises";
import path from "node:path";
import { SUMMARY_FILES } from "./compression.js";
import { RepoSignError } from "./errors.js";
import { temporaryTarget } from "./replacement.js";

/**
 * What a repository directory holds, sorted out before anything is signed: package files
 * (by their pkgsrc suffix), our own leftovers from a killed run, symlinks, and the rest
 * (pkg_summary, pkg_keys.pem, README ...), which is left alone and listed. Symlinks are
 * never followed for writing: one to a package in DIR is an alias (its target is signed in
 * its own right and the alias's summary entry follows it), one leading out of DIR is a
 * failure to report, since its package would go unsigned.
 */

/** PKG_SUFX values pkgsrc uses (.tgz whatever PKG_COMPRESSION, the others by older conventions). */
const PACKAGE_SUFFIXES = [".tgz", ".tbz", ".txz", ".tzst", ".tar"];
/** writeFileAtomic's temporary name for a pkg_summary we were replacing. */
const SUMMARY_TEMPORARY = /^\.pkg_summary\.(gz|bz2|xz)\.pkgtrust-tmp-\d+-[0-9a-f]{8}$/;

const KNOWN_FILES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(SUMMARY_FILES.map((s) => [s.name, "the package summary"])),
  "pkg_keys.pem": "the key bundle",
};

export function isSummaryTemporary(name: string): boolean {
  return SUMMARY_TEMPORARY.test(name);
}

export function isPackageName(name: string): boolean {
  return PACKAGE_SUFFIXES.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
}

/** The package name a file name promises: foo-1.0.tgz -> foo-1.0. */
export function packageNameOf(file: string): string {
  const suffix = PACKAGE_SUFFIXES.find((s) => file.endsWith(s));
  return suffix ? file.slice(0, -suffix.length) : file;
}

export interface ScannedPackage {
  readonly file: string;
  readonly size: number;
}

export interface Listed {
  readonly file: string;
  readonly reason: string;
}

export interface ScanFailure {
  readonly file: string;
  readonly code: "REPO_PKG_SYMLINK_OUTSIDE" | "REPO_PKG_NOT_REGULAR" | "REPO_PKG_UNREADABLE";
  readonly message: string;
}

export interface Scan {
  readonly packages: readonly ScannedPackage[];
  readonly nonPackages: readonly Listed[];
  /** Symlink name -> the package file in DIR it points to. */
  readonly aliases: ReadonlyMap<string, string>;
  readonly failures: readonly ScanFailure[];
  /** Our own temporary files left by a killed run (package temporaries only for owned packages). */
  readonly leftovers: readonly string[];
}

async function classifyLink(dir: string, realDir: string, name: string): Promise<{ alias?: string; listed?: Listed; failure?: ScanFailure }> {
  let target: string;
  try {
    target = await realpath(path.join(dir, name));
  } catch {
    return { listed: { file: name, reason: "symlink to nothing" } };
  }
  if (path.dirname(target) !== realDir) {
    if (isPackageName(name)) {
      return { failure: { file: name, code: "REPO_PKG_SYMLINK_OUTSIDE", message: `${name} is a symlink to ${target}, outside the repository directory; it is never followed` } };
    }
    return { listed: { file: name, reason: `symlink to ${target}, outside DIR (not followed)` } };
  }
  const base = path.basename(target);
  if (isPackageName(base) && (await lstat(target)).isFile()) return { alias: base, listed: { file: name, reason: `symlink to ${base}, which is signed in its own right` } };
  return { listed: { file: name, reason: `symlink to ${base}` } };
}

/**
 * Lists DIR. With `only`, just those file names count as packages (a shard's list); the
 * rest of DIR is neither listed nor touched.
 */
export async function scanRepository(dir: string, only?: ReadonlySet<string>): Promise<Scan> {
  let entries: Dirent[];
  let realDir: string;
  try {
    entries = await readdir(dir, { withFileTypes: true });
    realDir = await realpath(dir);
  } catch (error) {
    throw new RepoSignError("REPO_DIR_UNREADABLE", `cannot list ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error, detail: { dir } });
  }
  const packages: ScannedPackage[] = [];
  const nonPackages: Listed[] = [];
  const aliases = new Map<string, string>();
  const failures: ScanFailure[] = [];
  const leftovers: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = entry.name;
    const target = temporaryTarget(name);
    if (target !== undefined) {
      if (!only || only.has(target)) leftovers.push(name);
      continue;
    }
    if (SUMMARY_TEMPORARY.test(name)) {
      if (!only) leftovers.push(name);
      continue;
    }
    // Our own locks (this run's and a shard's) are not the repository's.
    if (/^\.pkgtrust-repo-sign(-[0-9a-f]{12})?\.lock$/.test(name)) continue;
    if (only && !only.has(name)) continue;
    seen.add(name);
    if (entry.isSymbolicLink()) {
      const link = await classifyLink(dir, realDir, name);
      if (link.alias) aliases.set(name, link.alias);
      if (link.listed) nonPackages.push(link.listed);
      if (link.failure) failures.push(link.failure);
    } else if (!isPackageName(name)) {
      nonPackages.push({ file: name, reason: entry.isDirectory() ? "directory" : (KNOWN_FILES[name] ?? "not a package file name") });
    } else if (!entry.isFile()) {
      failures.push({ file: name, code: "REPO_PKG_NOT_REGULAR", message: `${name} is not a regular file` });
    } else {
      const info = await lstat(path.join(dir, name)).catch(() => undefined);
      if (info) packages.push({ file: name, size: info.size });
      else failures.push({ file: name, code: "REPO_PKG_UNREADABLE", message: `${name} disappeared while DIR was listed` });
    }
  }
  for (const name of only ?? []) {
    if (!seen.has(name)) failures.push({ file: name, code: "REPO_PKG_UNREADABLE", message: `${name} (from --files) is not in the repository directory` });
  }
  return { packages, nonPackages, aliases, failures, leftovers };
}
