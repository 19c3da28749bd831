/**
 * SIGKILL at random moments of a real `pkgtrust repo sign` process: every package file
 * must be its old bytes or a complete re-signed package, every summary a complete file,
 * and a rerun must finish the job and leave none of our temporary files.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { requireTool } from "../fixtures/requirements.js";
import { expectPkgInstallAccepts, fileName, innerOf, readSummary, RepoKeys, summaryText, writePackages, writeSummaries, type PackageSpec } from "./repo-sign-fixture.js";

const TRIALS = 50;
/** The single file: it starts with half the CPU of the unbundled build (V8's code cache), and the suite runs two files at once. */
const built = fileURLToPath(new URL("../../dist/pkgtrust.mjs", import.meta.url));

let keys: RepoKeys;
let pristine: string;
let inners: Map<string, Buffer>;
let originals: Map<string, Buffer>;
const specs: PackageSpec[] = Array.from({ length: 10 }, (_, i) => ({ pkgname: `crash${i}-1.${i}`, payload: [300, 20_000, 300_000, 800_000][i % 4], ...(i % 4 === 3 ? { signed: false as const } : {}) }));

beforeAll(async () => {
  keys = await RepoKeys.create();
  pristine = mkdtempSync(join(keys.pki.dir, "pristine-"));
  inners = await writePackages(pristine, keys, specs);
  writeSummaries(pristine, summaryText(pristine, specs), { compressions: ["gz", "xz"] });
  originals = new Map(readdirSync(pristine).map((name) => [name, readFileSync(join(pristine, name))]));
}, 60_000);
afterAll(() => keys?.cleanup());

/** Runs repo sign as its own process; kills it with SIGKILL after `delayMs` (never, when undefined); resolves with the wall time. */
function runProcess(dir: string, delayMs?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [built, ...keys.signArgs(dir)], { stdio: "ignore" });
    if (delayMs !== undefined) setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.once("exit", () => resolve(Date.now() - started));
    child.once("error", reject);
  });
}

/** The invariant after any interruption: each package is its old bytes or a complete package that verifies with the same inner bytes. */
async function expectWholeFiles(dir: string): Promise<number> {
  let resigned = 0;
  for (const spec of specs) {
    const file = join(dir, fileName(spec));
    const bytes = readFileSync(file);
    if (bytes.equals(originals.get(fileName(spec)) as Buffer)) continue;
    // Not the old bytes: then a complete new package that pkg_install (the C reference) accepts.
    await expectPkgInstallAccepts(file, keys.anchorPath, new Date());
    expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
    resigned++;
  }
  // A summary is the old one or a complete new one (it unpacks and lists every package).
  const summary = gunzipSync(readFileSync(join(dir, "pkg_summary.gz"))).toString("latin1");
  expect(summary.match(/^PKGNAME=/gm)?.length).toBe(specs.length);
  return resigned;
}

describe.runIf(requireTool("xz", "repo sign's crash trials with pkg_summary.xz"))("repo sign crash safety", () => {
  it(`leaves old or new complete files over ${TRIALS} SIGKILLs, and a rerun finishes the job`, async () => {
    expect(existsSync(built), "run 'npm run build' first (npm test does)").toBe(true);
    const calibrate = mkdtempSync(join(keys.pki.dir, "calibrate-"));
    cpSync(pristine, calibrate, { recursive: true });
    // The run's length under the current load: kills at a fixed share of one calibration miss the
    // writing phase when the other test worker's load changes, so each trial's outcome corrects it.
    let full = await runProcess(calibrate);
    await expectWholeFiles(calibrate);
    const seen = { none: 0, some: 0, all: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = mkdtempSync(join(keys.pki.dir, `trial${trial}-`));
      cpSync(pristine, dir, { recursive: true });
      // Most kills fall in the second half, where the packages are written (the first is start-up).
      const from = trial % 5 === 0 ? 0 : 0.5;
      await runProcess(dir, Math.floor((from + Math.random() * (1.05 - from)) * full));
      const resigned = await expectWholeFiles(dir);
      seen[resigned === 0 ? "none" : resigned === specs.length ? "all" : "some"]++;
      if (from > 0 && resigned === 0) full *= 1.15;
      else if (resigned === specs.length) full *= 0.9;
      // Only our own recognisable temporary names may be left behind.
      for (const name of readdirSync(dir).filter((n) => n.startsWith("."))) {
        expect(name, `trial ${trial}`).toMatch(/^\..+\.pkgtrust-repo-sign$|^\.pkg_summary\.(gz|xz)\.pkgtrust-tmp-\d+-[0-9a-f]{8}$|^\.pkgtrust-repo-sign\.lock$|^\.\.pkgtrust-repo-sign\.lock\.pkgtrust-tmp-\d+-[0-9a-f]{8}$/);
      }
      const rerun = await runCli(keys.signArgs(dir), { now: new Date() });
      expect(rerun.status, `trial ${trial}: ${rerun.stdout}${rerun.stderr}`).toBe(0);
      expect(readdirSync(dir).filter((n) => n.startsWith(".")), `trial ${trial}`).toEqual([]);
      expect(await expectWholeFiles(dir)).toBe(specs.length);
      for (const kind of ["gz", "xz"] as const) {
        const summary = readSummary(dir, kind);
        for (const spec of specs) expect(summary).toContain(`FILE_NAME=${fileName(spec)}\nFILE_SIZE=${statSync(join(dir, fileName(spec))).size}\n`);
      }
    }
    // The random moments must have caught the run in the middle too, not only before or after it.
    expect(seen.some, JSON.stringify(seen)).toBeGreaterThan(0);
  }, 600_000);
});
