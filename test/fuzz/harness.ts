/**
 * The fuzzing harness: fast-check feeds a parser FUZZ_RUNS inputs (`npm run fuzz`: 100,000
 * per parser; the normal suite: 300). A case passes when the parser returns or throws a
 * PkgtrustError (a coded error); anything else thrown is a crash. Each case is timed and
 * fails above CASE_LIMIT_MS, so a hang or a quadratic blow-up shows as a failure with the
 * shrunk input; a true endless loop is stopped by the test's own timeout.
 */
import fc from "fast-check";
import { PkgtrustError } from "../../src/errors.js";

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Generous for a shared two-core machine; real cases take well under a millisecond. */
export const CASE_LIMIT_MS = 1000;
/** For the vitest timeout of a fuzz test: 5 ms a case on average at most, a minute at least. */
export const FUZZ_TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 5);

export interface FuzzReport {
  readonly parser: string;
  readonly runs: number;
  readonly seconds: number;
  readonly slowestMs: number;
  /** How often each outcome happened: "ok" or the error code. */
  readonly outcomes: Readonly<Record<string, number>>;
}

export async function fuzz<T>(parser: string, arbitrary: fc.Arbitrary<T>, parse: (input: T) => unknown): Promise<FuzzReport> {
  const outcomes: Record<string, number> = {};
  let slowestMs = 0;
  const start = performance.now();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      const begin = performance.now();
      let outcome = "ok";
      try {
        await parse(input);
      } catch (error) {
        if (!(error instanceof PkgtrustError)) throw error;
        outcome = error.code;
      }
      const elapsed = performance.now() - begin;
      if (elapsed > CASE_LIMIT_MS) throw new Error(`${parser}: one case took ${elapsed.toFixed(0)} ms (bound ${CASE_LIMIT_MS} ms)`);
      slowestMs = Math.max(slowestMs, elapsed);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }),
    { numRuns: FUZZ_RUNS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
  );
  const report = { parser, runs: FUZZ_RUNS, seconds: (performance.now() - start) / 1000, slowestMs, outcomes };
  process.stdout.write(`fuzz ${parser}: ${report.runs} cases in ${report.seconds.toFixed(1)} s, slowest ${slowestMs.toFixed(1)} ms; ${JSON.stringify(outcomes)}\n`);
  return report;
}

/** Half as generated, half with one to three edits (delete, insert, replace): near-valid inputs reach deep. */
export function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom("delete", "insert", "replace"), with: fc.string({ minLength: 1, maxLength: 4, unit: "binary" }) });
  return fc.tuple(text, fc.boolean(), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([base, keep, edits]) =>
    keep ? base :
    edits.reduce((s, e) => {
      const at = s.length === 0 ? 0 : e.at % (s.length + 1);
      if (e.kind === "delete") return s.slice(0, at) + s.slice(at + 1);
      if (e.kind === "insert") return s.slice(0, at) + e.with + s.slice(at);
      return s.slice(0, at) + e.with + s.slice(at + e.with.length);
    }, base),
  );
}

/** Half as generated, half with up to four byte flips and an optional cut. */
export function mutatedBytes(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(bytes, fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.option(fc.nat())).map(([base, keep, flips, cut]) => {
    if (keep) return base;
    const out = new Uint8Array(base);
    for (const [at, value] of flips) if (out.length > 0) out[at % out.length] = value;
    return cut === null || out.length === 0 ? out : out.subarray(0, cut % (out.length + 1));
  });
}

/** The bytes as a chunked stream, as a file or HTTP body delivers them. */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
