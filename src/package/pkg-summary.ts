import { SummaryError } from "./pkg-summary-errors.js";

/** One package of pkg_summary(5): the fields pkgtrust uses. */
export interface PkgSummaryEntry {
  /** e.g. "digest-20220214" */
  readonly pkgname: string;
  /** PKGNAME without the version: "digest". */
  readonly base: string;
  /** "20220214", "1.2.3nb4" */
  readonly version: string;
  /** FILE_NAME, or PKGNAME.tgz when absent (pkg_summary(5)). */
  readonly fileName: string;
  /** FILE_SIZE: bytes of the binary package. */
  readonly fileSize?: number;
  /** SIZE_PKG: bytes installed. */
  readonly sizePkg?: number;
}

/** One package's block of pkg_summary(5) lines. */
export interface SummaryBlock {
  /** The first value of each variable (multi-line ones such as DESCRIPTION repeat). */
  readonly fields: ReadonlyMap<string, string>;
  /** 0-based indexes into `text.split("\n")` of the block's lines. */
  readonly lines: readonly number[];
}

/**
 * Splits pkg_summary(5) into blocks of VAR=VALUE lines separated by blank lines. A line
 * that is not VAR=VALUE makes the whole file malformed (it is machine-written, so damage
 * means a broken mirror).
 */
export function summaryBlocks(text: string, source: string): SummaryBlock[] {
  const blocks: SummaryBlock[] = [];
  let fields = new Map<string, string>();
  let lines: number[] = [];
  const finish = () => {
    if (lines.length > 0) blocks.push({ fields, lines });
    fields = new Map();
    lines = [];
  };
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") {
      finish();
      continue;
    }
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match === null) {
      throw new SummaryError("REPO_SUMMARY_MALFORMED", `${source}, line ${index + 1}: not a VAR=VALUE line`, { detail: { source, line: index + 1 } });
    }
    lines.push(index);
    if (!fields.has(match[1] as string)) fields.set(match[1] as string, match[2] as string);
  }
  finish();
  return blocks;
}

/** FILE_NAME, or PKGNAME.tgz when absent (pkg_summary(5)). */
export function summaryFileName(fields: ReadonlyMap<string, string>): string | undefined {
  const pkgname = fields.get("PKGNAME");
  return fields.get("FILE_NAME") ?? (pkgname === undefined ? undefined : `${pkgname}.tgz`);
}

/**
 * Parses pkg_summary(5) into its packages. A block without PKGNAME makes the whole file
 * malformed. Entries whose file name could leave the repository directory are left out.
 */
export function parsePkgSummary(text: string, source: string): PkgSummaryEntry[] {
  const entries: PkgSummaryEntry[] = [];
  for (const block of summaryBlocks(text, source)) {
    const entry = toEntry(block.fields, source, (block.lines[0] ?? 0) + 1);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

function toEntry(block: ReadonlyMap<string, string>, source: string, line: number): PkgSummaryEntry | undefined {
  const pkgname = block.get("PKGNAME");
  const parts = pkgname === undefined ? null : /^(.+)-([^-]+)$/.exec(pkgname);
  if (pkgname === undefined || parts === null) {
    throw new SummaryError("REPO_SUMMARY_MALFORMED", `${source}, line ${line}: a package without a valid PKGNAME`, { detail: { source, line } });
  }
  const fileName = summaryFileName(block) as string;
  // The name is joined to the repository URL: "../x", "/x", "x?y" or "c:x" would point
  // elsewhere, so only plain file names qualify.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._+,~-]*$/.test(fileName) || /^\.+$/.test(fileName)) return undefined;
  const fileSize = size(block.get("FILE_SIZE"));
  const sizePkg = size(block.get("SIZE_PKG"));
  return {
    pkgname,
    base: parts[1] as string,
    version: parts[2] as string,
    fileName,
    ...(fileSize === undefined ? {} : { fileSize }),
    ...(sizePkg === undefined ? {} : { sizePkg }),
  };
}

function size(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * The package to test-install: the one named (a full PKGNAME, or a base name at its
 * highest version), else digest (small, and in every repository since pkg_install needs
 * it), else the smallest package by FILE_SIZE, else SIZE_PKG.
 */
export function chooseTestPackage(entries: readonly PkgSummaryEntry[], requested?: string): PkgSummaryEntry {
  if (entries.length === 0) throw new SummaryError("REPO_SUMMARY_EMPTY", "pkg_summary lists no package");
  if (requested !== undefined) {
    const exact = entries.find((entry) => entry.pkgname === requested);
    if (exact !== undefined) return exact;
    const named = highest(entries.filter((entry) => entry.base === requested));
    if (named !== undefined) return named;
    throw new SummaryError("REPO_PACKAGE_NOT_FOUND", `the repository has no package ${requested}`, { detail: { package: requested } });
  }
  const digest = highest(entries.filter((entry) => entry.base === "digest"));
  if (digest !== undefined) return digest;
  const weight = (entry: PkgSummaryEntry) => entry.fileSize ?? entry.sizePkg ?? Number.POSITIVE_INFINITY;
  return [...entries].sort((a, b) => weight(a) - weight(b) || a.pkgname.localeCompare(b.pkgname))[0] as PkgSummaryEntry;
}

function highest(entries: readonly PkgSummaryEntry[]): PkgSummaryEntry | undefined {
  return entries.reduce<PkgSummaryEntry | undefined>((best, entry) => (best === undefined || compareVersions(entry.version, best.version) > 0 ? entry : best), undefined);
}

/**
 * Orders pkgsrc versions the way pkg_install's dewey comparison does for ordinary
 * versions: numbers compare as numbers; "alpha" < "beta" < "pre" = "rc" < release < "pl";
 * "." and "_" separate; another letter counts as ".N" (1.0a = 1.0.1); "nbN" is compared
 * last. Limits: no dependency patterns (">=1.0", globs), upper case counts as lower case,
 * a run of other letters counts letter by letter, and digit runs beyond 2^53 lose precision.
 */
export function compareVersions(a: string, b: string): number {
  const [mainA, revisionA] = splitRevision(a);
  const [mainB, revisionB] = splitRevision(b);
  const partsA = versionParts(mainA);
  const partsB = versionParts(mainB);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return Math.sign(revisionA - revisionB);
}

function splitRevision(version: string): [string, number] {
  const match = /^(.*?)nb(\d+)$/.exec(version);
  return match === null ? [version, 0] : [match[1] as string, Number(match[2])];
}

const WORDS: Readonly<Record<string, number[]>> = { alpha: [-3], beta: [-2], pre: [-1], rc: [-1], pl: [0] };

function versionParts(version: string): number[] {
  const parts: number[] = [];
  for (const token of version.toLowerCase().match(/\d+|alpha|beta|pre|rc|pl|[a-z]|[._]/g) ?? []) {
    if (/^\d/.test(token)) parts.push(Number(token));
    else if (token === "." || token === "_") parts.push(0);
    else parts.push(...(WORDS[token] ?? [0, token.charCodeAt(0) - 96]));
  }
  return parts;
}
