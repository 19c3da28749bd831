/**
 * `npm run bench`: speed and memory as ratios against reference tools run in the same
 * process (never timed assertions in tests). Exits non-zero when a target is missed.
 * BENCH_ONLY picks sections (a comma list of start-up, verify-package, bzip2, xz, zstd, setup, bundle,
 * repo-sign, repo-sign-large: the 2,000-package part alone); BENCH_2GIB=1 adds the peak RSS
 * of verifying a 2 GiB package (it needs 4 GiB of free disk for a while).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestPki } from "../fixtures/pki.js";
import { bundleSection } from "./bundle.js";
import { BENCH_COMPRESSIONS, compressionSection } from "./compressions.js";
import { hugeSection, makeBenchPackage, packageSection, type SectionResult } from "./package.js";
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
const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
const wanted = (key: string) => !only || only.includes(key);
try {
  if (wanted("start-up")) report("start-up", startupSection());
  if (wanted("verify-package") || wanted("setup")) {
    const big = await makeBenchPackage(dir, pki);
    if (wanted("verify-package")) report("verify-package, 256 MiB", await packageSection(big));
    if (wanted("setup")) report("setup against a loopback repository", await setupSection(dir, pki, big));
  }
  for (const how of BENCH_COMPRESSIONS) if (wanted(how.name)) report(`verify-package, ${how.name} ${how.level}`, await compressionSection(dir, pki, how));
  if (process.env.BENCH_2GIB === "1") report("verify-package, 2 GiB", await hugeSection(dir, pki));
  if (wanted("bundle")) report("key bundle, 1,000 certificates", await bundleSection(pki));
  if (wanted("repo-sign") || wanted("repo-sign-large")) report("repo sign", await repoSignSection(dir, { small: wanted("repo-sign") }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pki.cleanup();
}
if (missed) process.exitCode = 1;
