/**
 * Differential fuzzing of the outer layers (the ar archive, +PKG_HASH) against the C
 * reference of pkg_install's calls (outer-parity.ts), each case validly signed over its
 * +PKG_HASH: every case must get the reference's verdict, but for the documented gap
 * (knownGap). Each case runs the reference, a process (10 to 25 ms), so the run is a tenth
 * of FUZZ_RUNS, and at least 300 cases: 300 in the normal suite (about 6 s), 10,000 with
 * `npm run fuzz`. OUTER_FUZZ_RUNS sets it directly; FUZZ_SEED replays a run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE } from "../reference/reference.js";
import { FUZZ_RUNS } from "./harness.js";
import { knownGap, OuterFuzzer } from "./outer-parity.js";

const RUNS = Number(process.env.OUTER_FUZZ_RUNS ?? Math.max(300, Math.ceil(FUZZ_RUNS / 10)));

let fuzzer: OuterFuzzer;
beforeAll(async () => {
  if (REFERENCE) fuzzer = await OuterFuzzer.create();
});
afterAll(async () => fuzzer?.cleanup());

describe.skipIf(!REFERENCE)("differential fuzzing of the outer layers against the C reference", () => {
  it(
    "gives pkg_install's verdict on every edited ar archive and +PKG_HASH",
    async () => {
      const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
      // Said first, so that a run that dies can be replayed.
      process.stdout.write(`fuzz outer layers: seed ${seed}\n`);
      const start = performance.now();
      const { disagreements, outcomes } = await fuzzer.run(RUNS, seed, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(`fuzz outer layers (seed ${seed}): ${RUNS} cases in ${((performance.now() - start) / 1000).toFixed(1)} s; ${JSON.stringify(outcomes)}\n`);
      expect(disagreements.filter((d) => !knownGap(d)).map((d) => `${d.description}: pkgtrust ${d.pkgtrust} (${d.trustedBy} trusted), reference ${d.reference}`)).toEqual([]);
    },
    60_000 + RUNS * 100,
  );
});
