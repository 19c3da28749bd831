/**
 * The real test-install inside --root (sysinst's case): run as root with ROOT/usr/sbin/pkg_add
 * present, pkgtrust runs `chroot ROOT /usr/sbin/pkg_add` into a throw-away database and prefix
 * inside the root, removed afterwards. The pkg_add is a static stand-in (chroot/pkg-add-standin.c).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSetup } from "../../src/bootstrap/setup.js";
import { pkgAddFor } from "../../src/cli/bootstrap-options.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { testFetcher } from "../fixtures/fetcher.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { snapshotTree, standardPki, writeRepository } from "../fixtures/repository.js";
import { recordSkipped, requireTools } from "../fixtures/requirements.js";

const CHECK = "the chroot test-install with a static stand-in pkg_add";
const ROOT_USER = process.getuid?.() === 0;
if (!ROOT_USER) recordSkipped({ tools: ["chroot"], check: `${CHECK} (needs root)` });
const RUNS = requireTools(["cc", "chroot"], CHECK) && ROOT_USER;

let pki: TestPki;
let server: RepoServer;
let work: string;
let standin: string;
let rootPem: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-chroot-"));
  pki = await TestPki.create();
  const trust = await standardPki(pki);
  rootPem = trust.root.certPem;
  await writeRepository(path.join(work, "www/good"), { bundle: trust.ca.certPem + trust.build.certPem, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  server = await startRepoServer({ root: path.join(work, "www") });
  if (RUNS) {
    standin = path.join(work, "pkg_add");
    execFileSync("cc", ["-static", "-O", "-o", standin, path.resolve("test/bootstrap/chroot/pkg-add-standin.c")]);
  }
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let count = 0;
/** A target root as sysinst leaves it: the base sets (here: pkg_add, /tmp, /var/log) and the anchor. */
function target(options: { pkgAdd?: boolean; refuse?: boolean } = {}): string {
  const dir = path.join(work, `target${count++}`);
  for (const sub of ["tmp", "var/log", "etc", path.dirname(DEFAULT_ANCHOR)]) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, DEFAULT_ANCHOR), rootPem);
  writeFileSync(path.join(dir, "pkgtrust-test-root"), "");
  if (options.pkgAdd !== false) {
    mkdirSync(path.join(dir, "usr/sbin"), { recursive: true });
    writeFileSync(path.join(dir, "usr/sbin/pkg_add"), readFileSync(standin), { mode: 0o755 });
  }
  if (options.refuse) writeFileSync(path.join(dir, "etc/pkg_add.refuse"), "");
  return dir;
}

async function setupIn(dir: string) {
  const root = new TargetRoot(dir);
  const deps = await pkgAddFor(root, {}, 0);
  const outcome = await runSetup(
    { repository: new URL("good/All/", server.httpUrl).href, root, anchorPath: DEFAULT_ANCHOR, testInstall: true },
    { fetcher: testFetcher({ ca: server.caPem }), now: NOW, cwd: work, emit: () => undefined, ...deps },
  );
  return { deps, outcome };
}

describe("pkgAddFor: which pkg_add a --root test-install runs", () => {
  it("the target's own under chroot as root; none, with the reason, otherwise", async () => {
    const dir = path.join(work, "choose");
    mkdirSync(path.join(dir, "usr/sbin"), { recursive: true });
    const root = new TargetRoot(dir);
    expect(await pkgAddFor(root, {}, 0)).toEqual({ noPkgAddReason: `no pkg_add in ${dir}` });
    writeFileSync(path.join(dir, "usr/sbin/pkg_add"), "");
    expect(await pkgAddFor(root, {}, 0)).toEqual({ pkgAdd: { program: "/usr/sbin/pkg_add", chroot: dir } });
    expect((await pkgAddFor(root, {}, 1000)).noPkgAddReason).toMatch(/chroot, which needs root/);
    expect(await pkgAddFor(root, { PKGTRUST_PKG_ADD: "none" }, 0)).toEqual({ noPkgAddReason: "PKGTRUST_PKG_ADD=none" });
  });
});

describe.runIf(RUNS)("setup --root as root: pkg_add runs under chroot", () => {
  it("into a throw-away database and prefix inside the root, with the written configuration, removed afterwards", async () => {
    const dir = target();
    const { outcome } = await setupIn(dir);
    expect(outcome.ok && outcome.result.testInstall).toMatchObject({ check: "pkg_add", trusted: true });
    expect(outcome.ok && outcome.result.testInstall?.why).toContain(`chroot ${dir} /usr/sbin/pkg_add -C /etc/pkg_install.conf`);
    const args = readFileSync(path.join(dir, "var/log/pkg_add.args"), "utf8").trim().split("\n");
    expect(args.slice(0, 2)).toEqual(["-C", "/etc/pkg_install.conf"]);
    // Paths as the chrooted pkg_add sees them: inside the root's /tmp.
    expect(args[3]).toMatch(/^\/tmp\/\.pkgtrust-test-install-[^/]+\/pkgdb$/);
    expect(args[5]).toMatch(/^\/tmp\/\.pkgtrust-test-install-[^/]+\/prefix$/);
    expect(args.at(-1)).toMatch(/^\/tmp\/\.pkgtrust-test-install-[^/]+\/digest-20220214\.tgz$/);
    expect(readdirSync(path.join(dir, "tmp"))).toEqual([]);
  });

  it("a refusal rolls every file back and leaves no scratch behind", async () => {
    const dir = target({ refuse: true });
    const before = snapshotTree(dir);
    const { outcome } = await setupIn(dir);
    expect(!outcome.ok && outcome.error.code).toBe("BOOT_PKG_ADD_FAILED");
    expect(!outcome.ok && outcome.error.message).toContain("Unable to verify signature");
    // The stand-in's own record of its arguments aside, the root is as it was.
    rmSync(path.join(dir, "var/log/pkg_add.args"));
    expect(snapshotTree(dir)).toEqual(before);
  });
});

describe("setup --root without a pkg_add to run", () => {
  it("says on the verdict that pkg_add was not run, and why", async () => {
    const dir = path.join(work, "nopkgadd");
    mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
    writeFileSync(path.join(dir, DEFAULT_ANCHOR), rootPem);
    const { outcome } = await setupIn(dir);
    expect(outcome.ok && outcome.result.testInstall?.check).toBe("native");
    expect(outcome.ok && outcome.result.testInstall?.why).toBe(`checked by pkgtrust's pkg_install-exact verifier; pkg_add was not run (no pkg_add in ${dir})`);
  });
});
