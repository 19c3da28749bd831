/**
 * contrib/sysinst/pkgtrust-setup.sh, as sysinst runs it: /bin/sh (dash here, NetBSD's sh
 * on the install medium), the built dist/pkgtrust.mjs as `pkgtrust`, a fake target root
 * and the loopback repositories. Async children only: the server runs in this process.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { TestPki } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { runProcess, type ProcessResult } from "../fixtures/process.js";
import { snapshotTree, standardPki, writeRepository } from "../fixtures/repository.js";

const GLUE = fileURLToPath(new URL("../../contrib/sysinst/pkgtrust-setup.sh", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/pkgtrust.mjs", import.meta.url));

let pki: TestPki;
let work: string;
let server: RepoServer;
let anchorPem: string;
let targets = 0;

beforeAll(async () => {
  expect(existsSync(DIST), "run 'npm run build' first (npm test does)").toBe(true);
  pki = await TestPki.create();
  const trust = await standardPki(pki);
  anchorPem = trust.root.certPem;
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-sysinst-"));
  const www = path.join(work, "www");
  const good = trust.ca.certPem + trust.build.certPem;
  const digest = { pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] };
  await writeRepository(path.join(www, "good"), { bundle: good, packages: [digest] });
  await writeRepository(path.join(www, "rogue"), { bundle: trust.rogueCa.certPem + trust.rogueBuild.certPem, packages: [{ ...digest, signer: trust.rogueBuild, chain: [trust.rogueCa] }] });
  await writeRepository(path.join(www, "tampered"), { bundle: good, packages: [{ ...digest, tamper: true }] });
  await writeRepository(path.join(www, "nokeys"), { bundle: good, packages: [digest] });
  rmSync(path.join(www, "nokeys/All/pkg_keys.pem"));
  await writeRepository(path.join(www, "portal"), { bundle: good, packages: [digest] });
  server = await startRepoServer({
    root: www,
    routes: { "/portal/All/pkg_keys.pem": (_q, res) => void res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Log in to the hotel network</body></html>") },
  });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** A fake /targetroot: the base set's anchor file (or the given content) and an empty /etc. */
function newTarget(anchor: string | null = anchorPem): string {
  const dir = path.join(work, `target${targets++}`);
  mkdirSync(path.join(dir, "etc"), { recursive: true });
  if (anchor !== null) {
    mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
    writeFileSync(path.join(dir, DEFAULT_ANCHOR), anchor);
  }
  return dir;
}

const url = (name: string) => new URL(`${name}/All`, server.httpUrl).href;

function glue(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runProcess("/bin/sh", [GLUE, ...args], { env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, PKGTRUST: DIST, PKGTRUST_PKG_ADD: "none", ...env } });
}

/** The target's files apart from the glue's own log in /tmp. */
const files = (target: string) => Object.fromEntries(Object.entries(snapshotTree(target)).filter(([name]) => !name.startsWith("tmp")));

describe("the sysinst glue", () => {
  it("configures the target and says so: exit 0", async () => {
    const target = newTarget();
    const result = await glue(["-t", target, url("good")]);
    expect(result.status, result.stdout + result.stderr).toBe(EXIT.OK);
    expect(result.stdout).toContain("Package signature verification is configured");
    expect(result.stdout).toContain("in /etc/pkg_install.conf;");
    expect(result.stdout).toContain("Test package digest-20220214: signature verified.");
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain("VERIFIED_INSTALLATION=always");
    expect(JSON.parse(readFileSync(path.join(target, "tmp/pkgtrust-setup.json"), "utf8")).ok).toBe(true);
  });

  it("refuses a repository whose keys chain to another root: exit 1, never unverified, target unchanged", async () => {
    const target = newTarget();
    const before = files(target);
    const result = await glue(["-t", target, url("rogue")]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.stdout).toMatch(/^The package repository's signing keys are not trusted\.\n.*\[BOOT_FOREIGN_ROOT\]\n/);
    expect(result.stdout).toContain("Never install them unverified.");
    expect(files(target)).toEqual(before);
  });

  it("rolls back when the test package does not verify: exit 1", async () => {
    const target = newTarget();
    const before = files(target);
    const result = await glue(["-t", target, url("tampered")]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.stdout).toMatch(/\[(BOOT_TEST_INSTALL_FAILED|PKG_[A-Z_]+)\]/);
    expect(files(target)).toEqual(before);
  });

  it("reports a repository that is not there as a download failure: exit 4 with the next step", async () => {
    const result = await glue(["-t", newTarget(), url("nothing-here")]);
    expect(result.status).toBe(EXIT.FETCH);
    expect(result.stdout).toMatch(/^Downloading from the package repository failed:\n.*nothing-here.*\[FETCH_[A-Z_]+\]\n.+\nCheck the host/);
  });

  it("reports a repository without pkg_keys.pem as publishing no key bundle: exit 1", async () => {
    const result = await glue(["-t", newTarget(), url("nokeys")]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.stdout).toMatch(/^This package repository publishes no key bundle \(pkg_keys\.pem\): its packages cannot be verified\.\n.*\[BOOT_NO_KEY_BUNDLE\]\n.*never install them unverified/);
  });

  it("junk served as pkg_keys.pem blames the network or the mirror, never the medium: exit 4", async () => {
    const result = await glue(["-t", newTarget(), url("portal")]);
    expect(result.status).toBe(EXIT.FETCH);
    expect(result.stdout).toMatch(/^The network or the mirror served something other than the repository's key bundle:\n.*\[BOOT_BUNDLE_NOT_SERVED\]\n.*captive portal/);
    expect(result.stdout).not.toMatch(/install medium|PEM file/);
  });

  it("reports a target without the base-system anchor (exit 5) and a damaged one (exit 3)", async () => {
    const missing = await glue(["-t", newTarget(null), url("good")]);
    expect(missing.status).toBe(EXIT.CONFIG);
    expect(missing.stdout).toMatch(/^The new system has no pkgsrc trust anchor: the base sets on the install medium lack it\.\n.*\[BOOT_ANCHOR_MISSING\]/);
    expect(missing.stdout).not.toContain("could not be written");
    const damaged = await glue(["-t", newTarget("-----BEGIN CERTIFICATE-----\nAAAA\n"), url("good")]);
    expect(damaged.status).toBe(EXIT.INPUT);
    expect(damaged.stdout).toMatch(/^The trust anchor or the repository's key bundle is malformed:\n.*\[PEM_[A-Z_]+\]/);
  });

  it("shows pkgtrust's usage error for a bad repository argument, and its own for none", async () => {
    const bad = await glue(["-t", newTarget(), "ftp://example.org/All"]);
    expect(bad.status).toBe(EXIT.USAGE);
    expect(bad.stdout).toMatch(/^pkgtrust was called wrongly.*\n.*\[REPO_BAD_URL\]/);
    expect((await glue([])).status).toBe(EXIT.USAGE);
  });

  it("fails closed when pkgtrust is not on the medium: exit 127", async () => {
    const result = await glue(["-t", newTarget(), url("good")], { PKGTRUST: "/nonexistent/pkgtrust" });
    expect(result.status).toBe(127);
    expect(result.stdout).toContain("Package signatures cannot be checked");
  });
});
