import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { crlNumbersByIssuer } from "../../src/config/state.js";
import { EXIT } from "../../src/errors.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { snapshotTree, snapshotWithoutRefreshRecord, standardPki, writeRepository } from "../fixtures/repository.js";

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let www: string;
let server: RepoServer;

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  www = mkdtempSync(path.join(tmpdir(), "pkgtrust-refresh-"));
  server = await startRepoServer({ root: www });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(www, { recursive: true, force: true });
});

const cli = (argv: string[], now = NOW) => runCli(argv, { now, cwd: www, env: { PKGTRUST_PKG_ADD: "none" } });

let repos = 0;
/** A repository whose bundle can be replaced between runs, and a target configured from it. */
async function configured(bundle: string, signer: Issued) {
  const name = `repo${repos++}`;
  await writeRepository(path.join(www, name), { bundle, packages: [{ pkgname: "digest-20220214", signer, chain: [trust.ca] }] });
  const target = mkdtempSync(path.join(tmpdir(), "pkgtrust-refresh-target-"));
  mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(target, DEFAULT_ANCHOR), trust.root.certPem);
  const url = new URL(`${name}/All/`, server.httpUrl).href;
  const setup = await cli(["setup", "--repo", url, "--root", target, "--json"]);
  expect(setup.status, setup.stdout).toBe(EXIT.OK);
  const publish = (pem: string) => writeFileSync(path.join(www, name, "All/pkg_keys.pem"), pem);
  return { target, publish };
}

describe("refresh", () => {
  it("takes a rotated bundle and drops a revoked signing certificate from what it wrote", async () => {
    const crl1 = await pki.crl(trust.ca, [], { number: 1, nextUpdate: new Date("2030-01-01") });
    const { target, publish } = await configured(trust.ca.certPem + trust.build.certPem + crl1.pem, trust.build);
    const rotated = await pki.signer(trust.ca, "build machine 2");
    const crl2 = await pki.crl(trust.ca, [{ serial: trust.build.serial }], { number: 2, nextUpdate: new Date("2030-01-01") });
    publish(trust.ca.certPem + trust.build.certPem + rotated.certPem + crl2.pem);
    // The old build certificate is revoked: the test package must come from the new one.
    await writeRepository(path.join(www, `repo${repos - 1}`), {
      bundle: trust.ca.certPem + trust.build.certPem + rotated.certPem + crl2.pem,
      packages: [{ pkgname: "digest-20220214", signer: rotated, chain: [trust.ca] }],
    });
    const refreshed = await cli(["refresh", "--root", target, "--json"]);
    expect(refreshed.status, refreshed.stdout).toBe(EXIT.OK);
    const revoked = refreshed.json.certificates.find((c: { subject: string }) => c.subject === "CN=build machine");
    expect(revoked).toMatchObject({ status: "invalid", code: "CERT_REVOKED" });
    const chain = readFileSync(path.join(target, refreshed.json.files.find((f: { path: string }) => f.path.endsWith("chain.pem")).path), "utf8");
    expect(chain).toContain(rotated.certPem.trim().split("\n")[1]);
    expect(chain).not.toContain(trust.build.certPem.trim().split("\n")[1]);
    const state = JSON.parse(readFileSync(path.join(target, "etc/pkgtrust/state.json"), "utf8"));
    expect(crlNumbersByIssuer(state)["CN=pkgsrc developer CA"]).toBe("2");
  });

  it("refuses a bundle whose CRL number went down, and changes nothing", async () => {
    const crl5 = await pki.crl(trust.ca, [], { number: 5, nextUpdate: new Date("2030-01-01") });
    const { target, publish } = await configured(trust.ca.certPem + trust.build.certPem + crl5.pem, trust.build);
    const crl4 = await pki.crl(trust.ca, [], { number: 4, nextUpdate: new Date("2030-01-01") });
    publish(trust.ca.certPem + trust.build.certPem + crl4.pem);
    const before = snapshotTree(target);
    const refreshed = await cli(["refresh", "--root", target, "--json"]);
    expect(refreshed.status).toBe(EXIT.STALE);
    expect(refreshed.json.error.code).toBe("BOOT_ROLLBACK");
    // Only pkgtrust's record of this refresh, for status, is new (the refresh report tests below).
    expect(snapshotWithoutRefreshRecord(target)).toEqual(before);
  });

  it("refuses a bundle that dropped a CRL it had before", async () => {
    const crl = await pki.crl(trust.ca, [], { number: 3, nextUpdate: new Date("2030-01-01") });
    const { target, publish } = await configured(trust.ca.certPem + trust.build.certPem + crl.pem, trust.build);
    publish(trust.ca.certPem + trust.build.certPem);
    expect((await cli(["refresh", "--root", target, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("refuses an older certificate for a subject it accepted a newer one for", async () => {
    const newer = await pki.signer(trust.ca, "build machine 3", { notBefore: new Date("2025-01-01") });
    const older = await pki.signer(trust.ca, "build machine 3", { notBefore: new Date("2024-01-01") });
    const { target, publish } = await configured(trust.ca.certPem + newer.certPem, newer);
    publish(trust.ca.certPem + older.certPem);
    expect((await cli(["refresh", "--root", target, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("refuses a CRL past its next update (freeze attack)", async () => {
    const crl = await pki.crl(trust.ca, [], { number: 1, nextUpdate: new Date("2030-01-01") });
    const { target } = await configured(trust.ca.certPem + trust.build.certPem + crl.pem, trust.build);
    const later = await cli(["refresh", "--root", target, "--json"], new Date("2031-01-01"));
    expect(later.json.error.code).toBe("BOOT_STALE_CRL");
    expect(later.status).toBe(EXIT.STALE);
  });

  it("says so when nothing was configured yet", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "pkgtrust-empty-"));
    expect((await cli(["refresh", "--root", empty, "--json"])).json.error.code).toBe("CONFIG_NOT_CONFIGURED");
  });
});

describe("status", () => {
  it("reports the configuration, fingerprints and days left, and exits 0 when all is well", async () => {
    const { target } = await configured(trust.ca.certPem + trust.build.certPem, trust.build);
    const status = await cli(["status", "--root", target, "--json"]);
    expect(status.status, status.stdout).toBe(EXIT.OK);
    expect(status.json).toMatchObject({ healthy: true, anchorFile: DEFAULT_ANCHOR, warnings: [] });
    expect(status.json.certificates.map((c: { sha256: string }) => c.sha256)).toContain(readCertSha(trust.build));
  });

  it("warns about a certificate expiring within 30 days and about edits behind its back", async () => {
    const soon = await pki.signer(trust.ca, "short-lived build machine", { notAfter: new Date(NOW.getTime() + 10 * 86_400_000) });
    const { target } = await configured(trust.ca.certPem + soon.certPem, soon);
    writeFileSync(path.join(target, "etc/pkg_install.conf"), "VERIFIED_INSTALLATION=never\n");
    const status = await cli(["status", "--root", target, "--json"]);
    expect(status.status).toBe(EXIT.STALE);
    expect(status.json.warnings.join("\n")).toMatch(/short-lived build machine .* expires in 10 days/);
    expect(status.json.warnings.join("\n")).toMatch(/VERIFIED_INSTALLATION is 'never'/);
  });
});

function readCertSha(issued: Issued): string {
  return createHash("sha256").update(issued.der).digest("hex");
}

// What setup and refresh tell a person and cron: failures on stderr, a refused refresh
// remembered by status, a refresh that changes nothing silent without a terminal, and a
// mistyped root or a missing anchor refused before any download.
const DAY_MS = 86_400_000;
const bundleWithCrl = async (number: number) => trust.ca.certPem + trust.build.certPem + (await pki.crl(trust.ca, [], { number, nextUpdate: new Date("2030-01-01") })).pem;

describe("refresh without a terminal", () => {
  it("prints nothing when nothing changed, and status records that it ran", async () => {
    const { target: root } = await configured(await bundleWithCrl(5), trust.build);
    const later = new Date(NOW.getTime() + DAY_MS);
    const quiet = await cli(["refresh", "--root", root], later);
    expect(quiet).toMatchObject({ status: EXIT.OK, stdout: "", stderr: "" });
    const status = await cli(["status", "--root", root, "--json"], later);
    expect(status.json).toMatchObject({ healthy: true, lastRefresh: { at: later.toISOString(), ok: true, changed: false } });
    expect((await cli(["status", "--root", root], later)).stdout).toContain(`refreshed:   ${later.toISOString()}, ok, nothing changed`);
  });

  it("prints the report when the trust files change", async () => {
    const { target: root, publish } = await configured(await bundleWithCrl(5), trust.build);
    const rotated = await pki.signer(trust.ca, "build machine 2");
    const crl6 = await pki.crl(trust.ca, [], { number: 6, nextUpdate: new Date("2030-01-01") });
    publish(trust.ca.certPem + trust.build.certPem + rotated.certPem + crl6.pem);
    const news = await cli(["refresh", "--root", root]);
    expect(news.status, news.stderr).toBe(EXIT.OK);
    expect(news.stdout).toMatch(/^==> Fetch the key bundle/m);
    expect(news.stdout).toMatch(/updated .*chain\.pem/);
    expect((await cli(["status", "--root", root, "--json"])).json.lastRefresh).toMatchObject({ ok: true, changed: true });
  });

  it("puts a refusal on stderr, and status warns about it until a refresh succeeds", async () => {
    const { target: root, publish } = await configured(await bundleWithCrl(5), trust.build);
    publish(await bundleWithCrl(4));
    const refused = await cli(["refresh", "--root", root]);
    expect(refused.status).toBe(EXIT.STALE);
    expect(refused.stderr).toMatch(/FAILED at "Verify the keys against the anchor": .*\[BOOT_ROLLBACK\]/);
    expect(refused.stdout).not.toMatch(/FAILED|next:/);
    const status = await cli(["status", "--root", root, "--json"]);
    expect(status.status).toBe(EXIT.STALE);
    expect(status.json).toMatchObject({ healthy: false, lastRefresh: { ok: false, code: "BOOT_ROLLBACK" } });
    expect(status.json.warnings.join("\n")).toMatch(/last refresh, at .*, failed: .*\[BOOT_ROLLBACK\]/);
    const plain = await cli(["status", "--root", root]);
    expect(plain.stdout).toMatch(/^refreshed: {3}\S+, FAILED \[BOOT_ROLLBACK\]$/m);
    expect(plain.stdout).not.toContain("no warnings");
    // The mirror catches up: the next refresh succeeds and the warning goes.
    publish(await bundleWithCrl(7));
    expect((await cli(["refresh", "--root", root, "--json"])).status).toBe(EXIT.OK);
    expect((await cli(["status", "--root", root, "--json"])).json).toMatchObject({ healthy: true, warnings: [] });
  });
});

describe("before any download", () => {
  it("setup refuses a root that does not exist, and a missing anchor, without a request", async () => {
    const before = server.requests.length;
    const url = new URL("repo0/All/", server.httpUrl).href;
    const typo = await cli(["setup", "--repo", url, "--root", "/nonexistent/typo", "--json"]);
    expect(typo).toMatchObject({ status: EXIT.CONFIG });
    expect(typo.json.error.code).toBe("CONFIG_ROOT_MISSING");
    const bare = mkdtempSync(path.join(tmpdir(), "pkgtrust-no-anchor-"));
    const missing = await cli(["setup", "--repo", url, "--root", bare]);
    expect(missing.status).toBe(EXIT.CONFIG);
    expect(missing.stderr).toMatch(/\[BOOT_ANCHOR_MISSING\]/);
    mkdirSync(path.join(bare, DEFAULT_ANCHOR), { recursive: true });
    expect((await cli(["setup", "--repo", url, "--root", bare, "--json"])).json.error.code).toBe("CONFIG_NOT_A_FILE");
    expect(server.requests.length).toBe(before);
    rmSync(bare, { recursive: true, force: true });
  });

  it("refresh refuses a root that does not exist", async () => {
    expect((await cli(["refresh", "--root", "/nonexistent/typo", "--json"])).json.error.code).toBe("CONFIG_ROOT_MISSING");
  });
});
