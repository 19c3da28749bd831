/**
 * The single-file build, as the install medium carries it: dist/pkgtrust.mjs copied alone
 * into an empty directory and run with a plain `node`. A smoke subset of the suite runs
 * against it: setup against the loopback repository, verify-package, the wizard in tmux.
 * Needs `npm run build` (npm test builds first).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupJsonSchema } from "../../src/cli/bootstrap-output.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { runProcess, type ProcessResult } from "../fixtures/process.js";
import { TestPki } from "../fixtures/pki.js";
import { RepoKeys, summaryText, writePackages, writeSummaries } from "../fixtures/repo-sign.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";
import { makeableCompressions } from "../fixtures/packages.js";
import { DistTerminal } from "./terminal.js";

/** The compressed packages this machine can make (the others are recorded as skipped). */
const COMPRESSIONS = makeableCompressions(["bzip2", "xz", "zstd"] as const, "the single file on every inner compression");
const XZ = requireTool("xz", "the single file on an xz-built repository (pkg_summary.xz) and repo sign's pkg_summary.xz");
import { requireTool } from "../fixtures/requirements.js";

const BUILT = fileURLToPath(new URL("../../dist/pkgtrust.mjs", import.meta.url));
let pki: TestPki;
let work: string;
/** The empty directory holding only pkgtrust.mjs. */
let alone: string;
let dist: string;
let probe: string;
let server: RepoServer;
let anchorFile: string;
let packages: Record<string, string>;
let rogue: Record<string, string>;
let targets = 0;

beforeAll(async () => {
  expect(existsSync(BUILT), "run 'npm run build' first (npm test does)").toBe(true);
  pki = await TestPki.create();
  const trust = await standardPki(pki);
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-dist-"));
  alone = path.join(work, "empty");
  mkdirSync(alone);
  dist = path.join(alone, "pkgtrust.mjs");
  copyFileSync(BUILT, dist);
  // Reports at exit whether blessed was evaluated (the build marks blessed's entry module).
  probe = path.join(work, "probe.mjs");
  writeFileSync(
    probe,
    'import { writeFileSync } from "node:fs";\n' +
      'process.on("exit", () => writeFileSync(process.env.PKGTRUST_PROBE_OUT, String(globalThis[Symbol.for("pkgtrust.blessed-loaded")] === true)));\n',
  );
  anchorFile = path.join(work, "anchor.pem");
  writeFileSync(anchorFile, trust.root.certPem);
  const www = path.join(work, "www");
  packages = await writeRepository(path.join(www, "good"), {
    bundle: trust.ca.certPem + trust.build.certPem,
    packages: [
      { pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] },
      ...COMPRESSIONS.map((compression) => ({ pkgname: `${compression}-1.0`, signer: trust.build, chain: [trust.ca], compression, payload: 100_000 })),
    ],
  });
  if (XZ) await writeRepository(path.join(www, "xz"), { bundle: trust.ca.certPem + trust.build.certPem, summary: "xz", packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca], compression: "xz" }] });
  rogue = await writeRepository(path.join(www, "rogue"), {
    bundle: trust.rogueCa.certPem + trust.rogueBuild.certPem,
    packages: [{ pkgname: "digest-20220214", signer: trust.rogueBuild, chain: [trust.rogueCa] }],
  });
  server = await startRepoServer({ root: www });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function newTarget(): string {
  const dir = path.join(work, `target${targets++}`);
  mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(dir, DEFAULT_ANCHOR), readFileSync(anchorFile));
  return dir;
}

/** `node pkgtrust.mjs ARGS` in the empty directory, no terminal; `blessed` says whether blessed was evaluated. */
async function node(...args: string[]): Promise<ProcessResult & { blessed: boolean }> {
  const out = path.join(work, `probe-${Math.random().toString(36).slice(2)}`);
  const result = await runProcess(process.execPath, ["--import", pathToFileURL(probe).href, dist, ...args], {
    cwd: alone,
    env: { PATH: process.env.PATH ?? "", PKGTRUST_PKG_ADD: "none", PKGTRUST_PROBE_OUT: out },
  });
  return { ...result, blessed: readFileSync(out, "utf8") === "true" };
}

describe("dist/pkgtrust.mjs alone in an empty directory", () => {
  it("is one file and answers --version without evaluating blessed", async () => {
    expect(readdirSync(alone)).toEqual(["pkgtrust.mjs"]);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const result = await node("--version");
    expect(result).toMatchObject({ status: EXIT.OK, stdout: `pkgtrust ${pkg.version}\n`, blessed: false });
  });

  it("lists every command in --help", async () => {
    const result = await node("--help");
    expect(result.status).toBe(EXIT.OK);
    for (const name of ["setup", "refresh", "status", "verify-package", "anchors"]) expect(result.stdout).toContain(`  ${name} `);
  });

  it("sets up against the loopback repository with --non-interactive, blessed never evaluated", async () => {
    const target = newTarget();
    const result = await node("setup", "--repo", new URL("good/All", server.httpUrl).href, "--root", target, "--non-interactive", "--json");
    expect(result.status, result.stderr).toBe(EXIT.OK);
    const parsed = setupJsonSchema.parse(JSON.parse(result.stdout));
    expect(parsed.ok && parsed.testInstall?.trusted).toBe(true);
    expect(result.blessed).toBe(false);
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain("VERIFIED_INSTALLATION=always");
  });

  it.runIf(XZ)("sets up a repository built with xz (pkg_summary.xz, xz packages)", async () => {
    const result = await node("setup", "--repo", new URL("xz/All", server.httpUrl).href, "--root", newTarget(), "--non-interactive", "--json");
    expect(result.status, result.stderr).toBe(EXIT.OK);
    expect(JSON.parse(result.stdout).testInstall).toMatchObject({ package: "digest-20220214", trusted: true });
  });

  it.each(COMPRESSIONS)("verifies a package whose inner package is %s-compressed", async (compression) => {
    const result = await node("verify-package", packages[`${compression}-1.0`] as string, "--anchor", anchorFile, "--json");
    expect(result.status, result.stderr).toBe(EXIT.OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ trusted: true, pkgname: `${compression}-1.0` });
  });

  it("refuses a rogue repository with the coded error", async () => {
    const result = await node("setup", "--repo", new URL("rogue/All", server.httpUrl).href, "--root", newTarget(), "--json");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(JSON.parse(result.stdout).error.code).toBe("BOOT_FOREIGN_ROOT");
  });

  it("verifies a signed package and refuses one from another root", async () => {
    const good = await node("verify-package", packages["digest-20220214"] as string, "--anchor", anchorFile, "--json");
    expect(good.status, good.stderr).toBe(EXIT.OK);
    expect(JSON.parse(good.stdout).trusted).toBe(true);
    const bad = await node("verify-package", rogue["digest-20220214"] as string, "--anchor", anchorFile);
    expect(bad.status).toBe(EXIT.UNTRUSTED);
  });

  it.runIf(XZ)("re-signs a repository directory, its hashing threads and xz summary included", async () => {
    const keys = await RepoKeys.create();
    try {
      const repo = mkdtempSync(path.join(work, "repo-"));
      const specs = [{ pkgname: "d1-1.0" }, { pkgname: "d2-1.0", signed: false as const, payload: 9_000_000 }];
      await writePackages(repo, keys, specs);
      writeSummaries(repo, summaryText(repo, specs, { cksum: true }), { compressions: ["xz"] });
      const result = await node(...keys.signArgs(repo), "--json");
      expect(result.status, result.stderr).toBe(EXIT.OK);
      expect(JSON.parse(result.stdout)).toMatchObject({ counts: { resigned: 1, signed: 1, failed: 0 }, summaries: [{ file: "pkg_summary.xz", updated: 2, written: true }] });
      expect(result.blessed).toBe(false);
    } finally {
      await keys.cleanup();
    }
  });

  it.runIf(requireTool("tmux", "the single file's wizard in tmux"))("runs the wizard in a terminal: happy path to exit 0, blessed's terminal data embedded", async () => {
    const target = newTarget();
    const statusFile = path.join(work, "wizard-status");
    const blessedOut = path.join(work, "wizard-probe");
    // A terminal type no terminfo database knows: blessed falls back to the xterm description built into the file.
    const terminal = await DistTerminal.start(dist, ["setup", "--root", target], {
      cwd: alone,
      term: "pkgtrust-unknown-terminal",
      statusFile,
      env: { PKGTRUST_PKG_ADD: "none", NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, PKGTRUST_PROBE_OUT: blessedOut },
    });
    try {
      await terminal.waitFor("1/4 Repository");
      await terminal.send("C-u");
      const url = new URL("good/All", server.httpUrl).href;
      await terminal.type(url);
      await terminal.waitFor(url.slice(-20));
      await terminal.send("Enter");
      expect(await terminal.waitFor("3/4 Key review")).toMatch(/Certificate 1 of 2: intermediate\s+VALID/);
      await terminal.send("Enter");
      expect(await terminal.waitFor("4/4 Done")).toMatch(/Signature check: digest-20220214 TRUSTED/);
      await terminal.send("Enter");
      expect(await terminal.exitStatus()).toBe(EXIT.OK);
      expect(readFileSync(blessedOut, "utf8")).toBe("true");
      expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain("VERIFIED_INSTALLATION=always");
    } finally {
      await terminal.close();
    }
  });
});
