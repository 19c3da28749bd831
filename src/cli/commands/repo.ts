import type { WriteStream } from "node:tty";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { readInputText } from "../../input-file.js";
import { bundleInputUnreadable } from "../../keys/files.js";
import { readAnchorFile } from "../../trust/anchor.js";
import { SigningError } from "../../keys/errors.js";
import { RepoSignError } from "../../keys/repo-sign/errors.js";
import { prepareIdentity } from "../../keys/repo-sign/identity.js";
import type { Outcome } from "../../keys/repo-sign/package-job.js";
import { repoSign, repoSummary, type RepoSignEvent, type RepoSignReport, type SummaryReport } from "../../keys/repo-sign/repo-sign.js";
import { EXIT } from "../../errors.js";
import type { Command, CommandContext, Subcommand } from "../command.js";
import { groupSummary, groupUsage, runSubcommand } from "../group.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { shortBytes } from "../../format.js";
import { progressLine } from "../progress-bar.js";

const whole = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${flag} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `--${flag} must be at least ${min}`).max(max, `--${flag} must be at most ${max}`));

const signOptions = z.object({
  key: z.string({ error: "a private key is required (--key FILE)" }).min(1),
  cert: z.string({ error: "the signing certificate is required (--cert FILE)" }).min(1),
  anchor: z.string({ error: "the anchor file is required (--anchor FILE)" }).min(1),
  chain: z.string().min(1).optional(),
  jobs: whole("jobs", 1, 64).optional(),
  "min-days": whole("min-days", 0, 36500).default(14),
  "expired-grace-days": whole("expired-grace-days", 0, 3650).default(90),
  files: z.string().min(1).optional(),
  "no-summary": z.boolean().default(false),
  "dry-run": z.boolean().default(false),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});
const summaryOptions = z.object({ "dry-run": z.boolean().default(false), json: z.boolean().default(false) });

const summaryJson = z.object({ file: z.string(), entries: z.number().int(), updated: z.number().int(), written: z.boolean(), code: z.string().nullable(), message: z.string().nullable() });
const certificateJson = z.object({ subject: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), notAfter: z.string() });
const count = z.number().int().min(0);

export const signOutputSchema = z.object({
  dir: z.string(),
  dryRun: z.boolean(),
  signer: certificateJson,
  /** When the first certificate of the signing path expires: re-sign again before then. */
  expires: z.string(),
  counts: z.object({ packages: count, signed: count, resigned: count, skipped: count, failed: count, nonPackages: count }),
  failures: z.array(z.object({ file: z.string(), code: z.string(), message: z.string(), exit: z.number().int() })),
  nonPackages: z.array(z.object({ file: z.string(), reason: z.string() })),
  summaries: z.array(summaryJson),
  cleaned: z.array(z.string()),
  warnings: z.array(z.string()),
  bytes: z.object({ read: count, written: count }),
  timings: z.object({ prepareMs: count, packagesMs: count, summariesMs: count, totalMs: count }),
  exit: z.number().int(),
});

export const summaryOutputSchema = z.object({ dir: z.string(), dryRun: z.boolean(), summaries: z.array(summaryJson), cleaned: z.array(z.string()), exit: z.number().int() });

const readText = (path: string, cwd: string) => readInputText(path, cwd, (message, options) => new SigningError("SIGN_IO", message, options));

/** --files: one package file name a line ('#' comments and blank lines allowed), never a path. */
async function readFileList(path: string, cwd: string): Promise<Set<string>> {
  const text = await readInputText(path, cwd, (message, options) => new RepoSignError("REPO_FILES_LIST", message, options));
  const names = new Set<string>();
  for (const [index, raw] of text.split("\n").entries()) {
    const name = raw.trim();
    if (name === "" || name.startsWith("#")) continue;
    if (name.includes("/") || name === "." || name === "..") {
      throw new RepoSignError("REPO_FILES_LIST", `${path}, line ${index + 1}: '${name}' is not a file name in DIR`, { detail: { file: path, line: index + 1 } });
    }
    names.add(name);
  }
  return names;
}

/** On a terminal: one redrawn line on standard error, at most ten times a second. */
function progressReporter(context: CommandContext, enabled: boolean): { onEvent?: (event: RepoSignEvent) => void; end(): void } {
  if (!enabled) return { end: () => undefined };
  const started = Date.now();
  let last = 0;
  let shown = false;
  const width = () => (context.stderr as Partial<WriteStream>).columns ?? 80;
  return {
    onEvent(event) {
      if (event.type !== "progress") return;
      const now = Date.now();
      if (now - last < 100 && event.done < event.packages) return;
      last = now;
      shown = true;
      context.stderr.write(`\r${progressLine({ done: event.done, total: event.packages, bytes: event.bytes, totalBytes: event.totalBytes, elapsedMs: now - started }, width())}\x1b[K`);
    },
    end() {
      if (shown) context.stderr.write("\n");
    },
  };
}

function summaryLines(summaries: readonly SummaryReport[], dryRun: boolean): string[] {
  return summaries.map((s) =>
    s.code ? `FAILED      ${s.file}: ${s.message ?? ""} [${s.code}]` : `summary     ${s.file}: ${s.updated} of ${s.entries} entries ${dryRun ? "would be updated" : s.written ? "updated" : "unchanged"}`,
  );
}

function signText(report: RepoSignReport, dir: string): string[] {
  const tally = (kind: string) => report.outcomes.filter((o) => o.kind === kind).length;
  const lines: string[] = [];
  for (const outcome of report.outcomes) if (outcome.kind === "failed") lines.push(`FAILED      ${outcome.file}: ${outcome.message} [${outcome.code}]`);
  for (const listed of report.nonPackages) lines.push(`left alone  ${listed.file} (${listed.reason})`);
  for (const name of report.cleaned) lines.push(`cleaned     ${name} (left by an interrupted run)`);
  lines.push(...summaryLines(report.summaries, report.dryRun));
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  const seconds = report.timings.totalMs / 1000;
  const verb = report.dryRun ? "would be " : "";
  lines.push(
    `${dir}: ${report.outcomes.length} package(s): ${tally("resigned")} ${verb}re-signed, ${tally("signed")} ${verb}signed, ${tally("skipped")} skipped, ${tally("failed")} failed; ` +
      `${report.nonPackages.length} other file(s) left alone; ${shortBytes(report.bytes.read)} read in ${seconds.toFixed(1)} s`,
  );
  return lines;
}

/** A failed package's exit status: 1 refused, else its error's (3 unreadable, 5 not writable ...). */
function failureExit(outcome: Outcome & { kind: "failed" }): number {
  return outcome.refused ? EXIT.UNTRUSTED : outcome.error.exit;
}

/** 0, or the highest exit status among the failures; a summary that could not be written is 5. */
function exitStatus(outcomes: readonly Outcome[], summaries: readonly SummaryReport[]): number {
  let exit: number = EXIT.OK;
  for (const outcome of outcomes) if (outcome.kind === "failed") exit = Math.max(exit, failureExit(outcome));
  if (summaries.some((s) => s.code)) exit = Math.max(exit, EXIT.CONFIG);
  return exit;
}

async function sign(context: CommandContext, argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, signOptions);
  const [dir] = requirePositionals(positionals, ["DIR"]) as [string];
  // Everything the signer needs is read and judged before the repository is looked at.
  const anchor = await readAnchorFile(options.anchor, context.cwd, bundleInputUnreadable);
  const inputs = {
    keyPem: await readText(options.key, context.cwd),
    certPem: await readText(options.cert, context.cwd),
    ...(options.chain ? { chainPem: await readText(options.chain, context.cwd) } : {}),
  };
  const identity = prepareIdentity({ ...inputs, anchors: anchor.certificates }, { time: context.now, minDays: options["min-days"] });
  const only = options.files ? await readFileList(options.files, context.cwd) : undefined;
  const progress = progressReporter(context, context.isTTY && !options.json);
  let report: RepoSignReport;
  try {
    report = await repoSign({
      dir: resolve(context.cwd, dir),
      identity,
      files: { anchor: resolve(context.cwd, options.anchor), cert: resolve(context.cwd, options.cert), ...(options.chain ? { chain: resolve(context.cwd, options.chain) } : {}) },
      jobs: options.jobs ?? availableParallelism(),
      force: options.force,
      dryRun: options["dry-run"],
      expiredGraceDays: options["expired-grace-days"],
      ...(only ? { only } : {}),
      summary: !options["no-summary"],
      time: context.now,
      ...(context.entry ? { threads: { entry: context.entry, ...inputs, minDays: options["min-days"] } } : {}),
      ...(progress.onEvent ? { onEvent: progress.onEvent } : {}),
    });
  } finally {
    progress.end();
  }
  const exit = exitStatus(report.outcomes, report.summaries);
  if (options.json) {
    const tally = (kind: string) => report.outcomes.filter((o) => o.kind === kind).length;
    writeJson(context.stdout, signOutputSchema, {
      dir,
      dryRun: report.dryRun,
      signer: { subject: identity.signer.subject, sha256: identity.signer.sha256, notAfter: identity.signer.notAfter.toISOString() },
      expires: identity.expires.toISOString(),
      counts: { packages: report.outcomes.length, signed: tally("signed"), resigned: tally("resigned"), skipped: tally("skipped"), failed: tally("failed"), nonPackages: report.nonPackages.length },
      failures: report.outcomes.flatMap((o) => (o.kind === "failed" ? [{ file: o.file, code: o.code, message: o.message, exit: failureExit(o) }] : [])),
      nonPackages: report.nonPackages,
      summaries: report.summaries.map((s) => ({ file: s.file, entries: s.entries, updated: s.updated, written: s.written, code: s.code ?? null, message: s.message ?? null })),
      cleaned: report.cleaned,
      warnings: report.warnings,
      bytes: report.bytes,
      timings: report.timings,
      exit,
    });
  } else {
    writeLines(context.stdout, signText(report, dir));
  }
  return exit;
}

async function summary(context: CommandContext, argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, summaryOptions);
  const [dir] = requirePositionals(positionals, ["DIR"]) as [string];
  const report = await repoSummary({ dir: resolve(context.cwd, dir), dryRun: options["dry-run"] });
  const exit = exitStatus([], report.summaries);
  if (options.json) {
    writeJson(context.stdout, summaryOutputSchema, {
      dir,
      dryRun: options["dry-run"],
      summaries: report.summaries.map((s) => ({ file: s.file, entries: s.entries, updated: s.updated, written: s.written, code: s.code ?? null, message: s.message ?? null })),
      cleaned: report.cleaned,
      exit,
    });
  } else {
    writeLines(context.stdout, [...summaryLines(report.summaries, options["dry-run"]), `${dir}: ${report.summaries.length} summary file(s)`]);
  }
  return exit;
}

const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "sign",
    usage: "repo sign DIR --key FILE --cert FILE --anchor FILE [--chain FILE] [--jobs N] [--min-days N] [--expired-grace-days N] [--files LIST] [--no-summary] [--dry-run] [--force] [--json]",
    summary:
      "every package file in DIR: an unsigned one is signed (its @name must match its file name); a signed one is verified as pkg_install would against --anchor (the signature, every block, the size, @name) and re-signed from the same bytes; one that fails is left untouched and reported. An old signer that expired at most --expired-grace-days (90) ago is judged as of its expiry, the rest of its path as of now. A package already signed by --cert with --chain is skipped unless --force. Each file is replaced atomically, then pkg_summary.gz/.bz2/.xz get the new FILE_SIZE (and FILE_CKSUM). --files LIST signs only the names in LIST (one machine's share); with --no-summary the summaries are left for 'repo summary'. Exit 0 when no package failed, else the highest status of the failures: 1 refused, 3 unreadable, 5 not writable.",
  },
  {
    name: "summary",
    usage: "repo summary DIR [--dry-run] [--json]",
    summary: "rewrite FILE_SIZE and FILE_CKSUM of every pkg_summary in DIR from the files on disk: the final step after several 'repo sign --files ... --no-summary' runs.",
  },
];

export const command: Command = {
  name: "repo",
  summary: groupSummary("Sign and re-sign a whole repository directory in one pass.", SUBCOMMANDS, "Run it on the repository's All directory; it never follows a symlink out of DIR."),
  usage: groupUsage(SUBCOMMANDS),
  subcommands: SUBCOMMANDS,
  run: (context) => runSubcommand("repo", context, { sign: (c) => sign(c, c.argv.slice(1)), summary: (c) => summary(c, c.argv.slice(1)) }),
};
