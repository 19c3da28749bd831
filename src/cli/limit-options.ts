import { z } from "zod";
import { DEFAULT_LIMITS, downloadDeadlineMs, type Limits } from "../limits.js";
import { formatBytes } from "../format.js";

const count = (max: number) => z.string().regex(/^\d+$/, "give a whole number").transform(Number).pipe(z.number().int().min(0).max(max));
const positive = (max: number) => count(max).pipe(z.number().min(1, "give a number of at least 1"));

/** The limits a user of setup and refresh may change, as options (the others are fixed: src/limits.ts). */
export const limitOptionSchema = z.object({
  deadline: positive(7 * 24 * 3600).optional(),
  timeout: positive(3600).optional(),
  retries: count(20).optional(),
  "min-rate": positive(1024 * 1024 * 1024).optional(),
});
export type LimitOptions = z.infer<typeof limitOptionSchema>;

export function limitsFrom(options: LimitOptions): Limits {
  const { deadline, timeout, retries } = options;
  const minRate = options["min-rate"];
  return {
    ...DEFAULT_LIMITS,
    ...(deadline === undefined ? {} : { setupDeadlineMs: deadline * 1000 }),
    ...(timeout === undefined ? {} : { timeouts: { connectMs: timeout * 1000, headersMs: timeout * 1000, bodyMs: timeout * 1000 } }),
    ...(retries === undefined ? {} : { retries }),
    ...(minRate === undefined ? {} : { minBytesPerSecond: minRate }),
  };
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** What `setup --help` and `refresh --help` print: every limit, its default, and the option that changes it. */
export function limitsHelp(limits: Limits = DEFAULT_LIMITS): string {
  const { timeouts, summary } = limits;
  const rows: [string, string, string][] = [
    ["the whole run, fetch to test-install (SETUP_DEADLINE)", seconds(limits.setupDeadlineMs), "--deadline SECONDS"],
    ["connecting, the response headers, a pause in a body (FETCH_TIMEOUT)", `${seconds(timeouts.connectMs)}, ${seconds(timeouts.headersMs)}, ${seconds(timeouts.bodyMs)}`, "--timeout SECONDS"],
    ["further attempts after a network error or a 5xx", String(limits.retries), "--retries N"],
    ["lowest rate a download may keep (FETCH_DEADLINE)", `${formatBytes(limits.minBytesPerSecond)}/s`, "--min-rate BYTES"],
    ["  so the key bundle must arrive within", seconds(downloadDeadlineMs(limits, limits.bundleBytes)), ""],
    ["key bundle size, certificates and CRLs in it", `${formatBytes(limits.bundleBytes)}, ${limits.bundleBlocks}`, ""],
    ["pkg_summary compressed, unpacked", `${formatBytes(summary.maxCompressedBytes)}, ${formatBytes(summary.maxSummaryBytes)}`, ""],
    ["test package, pkg_add run", `${formatBytes(limits.testPackageBytes)}, ${seconds(limits.pkgAddMs)}`, ""],
    ["redirects", String(limits.redirects), ""],
    ["path search: steps, candidates, signature checks", `${limits.pathSearch.maxSteps}, ${limits.pathSearch.maxCandidates}, ${limits.pathSearch.maxSignatureChecks}`, ""],
    ["a file named on the command line", formatBytes(limits.inputFileBytes), ""],
  ];
  const width = Math.max(...rows.map(([what]) => what.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = rows.map(([what, value, option]) => `  ${what.padEnd(width)}  ${value.padEnd(valueWidth)}  ${option}`.trimEnd());
  return ["limits (default, and the option that changes it):", ...lines].join("\n");
}
