/**
 * What setup and refresh tell a person and cron: failures on stderr, a refused refresh
 * remembered by status, a refresh that changes nothing silent without a terminal, and a
 * mistyped root or a missing anchor refused before any download.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { runCli } from "../fixtures/cli.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let www: string;
let server: RepoServer;

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  www = mkdtempSync(path.join(tmpdir(), "pkgtrust-refresh-report-"));
  server = await startRepoServer({ root: www });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(www, { recursive: true, force: true });
});

const cli = (argv: string[], now = NOW) => runCli(argv, { now, cwd: www, env: { PKGTRUST_PKG_ADD: "none" } });
const DAY_MS = 86_400_000;

let repos = 0;
function target(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-refresh-report-target-"));
  mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(dir, DEFAULT_ANCHOR), trust.root.certPem);
  return dir;
}

/** A repository whose bundle can be replaced, and a target set up from it. */
async function configured() {
  const name = `repo${repos++}`;
  const crl = await pki.crl(trust.ca, [], { number: 5, nextUpdate: new Date("2030-01-01") });
  await writeRepository(path.join(www, name), { bundle: trust.ca.certPem + trust.build.certPem + crl.pem, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  const root = target();
  const setup = await cli(["setup", "--repo", new URL(`${name}/All/`, server.httpUrl).href, "--root", root, "--json"]);
  expect(setup.status, setup.stdout).toBe(EXIT.OK);
  return { root, publish: (pem: string) => writeFileSync(path.join(www, name, "All/pkg_keys.pem"), pem) };
}

describe("refresh without a terminal", () => {
  it("prints nothing when nothing changed, and status records that it ran", async () => {
    const { root } = await configured();
    const later = new Date(NOW.getTime() + DAY_MS);
    const quiet = await cli(["refresh", "--root", root], later);
    expect(quiet).toMatchObject({ status: EXIT.OK, stdout: "", stderr: "" });
    const status = await cli(["status", "--root", root, "--json"], later);
    expect(status.json).toMatchObject({ healthy: true, lastRefresh: { at: later.toISOString(), ok: true, changed: false } });
    expect((await cli(["status", "--root", root], later)).stdout).toContain(`refreshed:   ${later.toISOString()}, ok, nothing changed`);
  });

  it("prints the report when the trust files change", async () => {
    const { root, publish } = await configured();
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
    const { root, publish } = await configured();
    const crl4 = await pki.crl(trust.ca, [], { number: 4, nextUpdate: new Date("2030-01-01") });
    publish(trust.ca.certPem + trust.build.certPem + crl4.pem);
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
    const crl7 = await pki.crl(trust.ca, [], { number: 7, nextUpdate: new Date("2030-01-01") });
    publish(trust.ca.certPem + trust.build.certPem + crl7.pem);
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
