/**
 * `npm run bench`: speed and memory as ratios against reference tools run in the same
 * process (never timed assertions in tests). Exits non-zero when a target is missed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestPki } from "../fixtures/pki.js";
import { bundleSection } from "./bundle.js";
import { makeBenchPackage, packageSection, type SectionResult } from "./package.js";
import { repoSignSection } from "./repo-sign.js";
import { setupSection } from "./setup.js";
import { startupSection } from "./startup.js";

const dir = mkdtempSync(join(tmpdir(), "pkgtrust-bench-"));
const pki = await TestPki.create();
let missed = false;
const report = (title: string, section: SectionResult) => {
  process.stdout.write(`\n${title}\n${section.lines.map((l) => `  ${l}`).join("\n")}\n`);
  missed ||= section.missed;
};
try {
  report("start-up", startupSection());
  const big = await makeBenchPackage(dir, pki);
  report("verify-package, 256 MiB", await packageSection(big));
  report("key bundle, 1,000 certificates", await bundleSection(pki));
  report("setup against a loopback repository", await setupSection(dir, pki, big));
  report("repo sign", await repoSignSection(dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pki.cleanup();
}
if (missed) process.exitCode = 1;
