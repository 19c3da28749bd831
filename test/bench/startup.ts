/**
 * Bench section: start-up. `pkgtrust --version` from the single file (dist/pkgtrust.mjs)
 * against a bare `node -e 0` (target <= 1.5x), and the --help of two commands, which load
 * the program, for the single file and the unbundled build (bin/pkgtrust.mjs).
 */
import { CLI, DIST, measure, type SectionResult } from "./package.js";
const RUNS = 15;
const TARGET = 1.5;

/** Best wall time of RUNS runs: the floor, least disturbed by other load on the machine. */
function fastest(args: string[]): number {
  return Math.min(
    ...Array.from({ length: RUNS }, () => {
      const run = measure(process.execPath, args);
      if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed with status ${run.status}`);
      return run.seconds;
    }),
  );
}

export function startupSection(): SectionResult {
  const bare = fastest(["-e", "0"]);
  const version = fastest([DIST, "--version"]);
  const ratio = version / bare;
  const row = (label: string, seconds: number) => `${label.padEnd(38)}${seconds.toFixed(3)} s  ${(seconds / bare).toFixed(2)}x`;
  const lines = [
    row("node -e 0", bare),
    `${row("dist: pkgtrust --version", version)} (target <= ${TARGET}) ${ratio <= TARGET ? "ok" : "MISSED"}`,
    row("bin:  pkgtrust --version", fastest([CLI, "--version"])),
    row("dist: pkgtrust verify-package --help", fastest([DIST, "verify-package", "--help"])),
    row("bin:  pkgtrust verify-package --help", fastest([CLI, "verify-package", "--help"])),
    row("dist: pkgtrust setup --help", fastest([DIST, "setup", "--help"])),
    row("bin:  pkgtrust setup --help", fastest([CLI, "setup", "--help"])),
    `(best of ${RUNS} runs each)`,
  ];
  return { lines, missed: ratio > TARGET };
}
