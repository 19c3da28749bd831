/**
 * Bench section: start-up against a bare `node -e 0`, in paired rounds (issue 13): `--version`
 * and `verify-package --help` from the package's bin (target <= 1.3x each), and the same
 * from the single file and from build/ module by module (PKGTRUST_UNBUNDLED=1) for comparison.
 */
import { CLI, DIST, gapRow, loadLine, measure, paired, pairedGap, ratioRow, type SectionResult } from "./package.js";

const ROUNDS = 15;
const TARGET = 1.3;

export function startupSection(): SectionResult {
  const node = (args: string[], env?: NodeJS.ProcessEnv) => () => {
    const run = measure(process.execPath, args, env);
    if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed with status ${run.status}`);
    return run;
  };
  const unbundled = { PKGTRUST_UNBUNDLED: "1" };
  const result = paired(ROUNDS, {
    bare: node(["-e", "0"]),
    binVersion: node([CLI, "--version"]),
    binHelp: node([CLI, "verify-package", "--help"]),
    distVersion: node([DIST, "--version"]),
    distHelp: node([DIST, "verify-package", "--help"]),
    buildVersion: node([CLI, "--version"], unbundled),
    buildHelp: node([CLI, "verify-package", "--help"], unbundled),
    distSetupHelp: node([DIST, "setup", "--help"]),
  });
  const reference = result.bare.seconds;
  const rows = [
    ratioRow("bin:   pkgtrust --version", result.binVersion.seconds, reference, TARGET),
    ratioRow("bin:   pkgtrust verify-package --help", result.binHelp.seconds, reference, TARGET),
    ratioRow("dist:  pkgtrust --version", result.distVersion.seconds, reference),
    ratioRow("dist:  pkgtrust verify-package --help", result.distHelp.seconds, reference),
    ratioRow("dist:  pkgtrust setup --help", result.distSetupHelp.seconds, reference),
    ratioRow("build: pkgtrust --version (unbundled)", result.buildVersion.seconds, reference),
    ratioRow("build: pkgtrust verify-package --help", result.buildHelp.seconds, reference),
  ];
  return {
    lines: [
      `node -e 0 (reference)                       ${reference.toFixed(3)} s; median of ${ROUNDS} paired rounds`,
      ...rows.map((r) => r.line),
      gapRow("bin minus dist: --version", pairedGap(result.distVersion, result.binVersion), "bin"),
      gapRow("bin minus dist: verify-package --help", pairedGap(result.distHelp, result.binHelp), "bin"),
      loadLine(),
    ],
    missed: rows.some((r) => r.missed),
  };
}
