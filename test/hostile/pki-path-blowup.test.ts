/**
 * Hostile repository, path-search blow-up (issue 11, item 1): a key bundle with two groups of
 * CAs that issue each other without key identifiers ("loop A" by "loop B" and the reverse, one
 * key per group), so that a search over every path tries about m·(m-1)^8 of them. Before the
 * bounded search, 15 such certificates took 310 s in verify-bundle and 40 hung setup. The
 * commands run as the real binary with a kill timer: GENEROUS_MS is a bound only an
 * exponential search exceeds (idle, each takes about a second; the one the work limit stops
 * spends most of it in the search since failed branches build no Error).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle, verifyBundle } from "../../src/bundle/verify.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { findTrustedPath, PATH_SEARCH_LIMITS, SearchBudget, STRICT_POLICY } from "../../src/pki/path.js";
import { issuerLoops, NOW, TestPki } from "../fixtures/pki.js";
import { runProcess } from "../fixtures/process.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { snapshotTree, standardPki, writeRepository } from "../fixtures/repository.js";

// Room for a machine under heavy load (one run took 15 s at load 15 on 2 cores); an exponential search takes hours.
const GENEROUS_MS = 60_000;
const bin = fileURLToPath(new URL("../../bin/pkgtrust.mjs", import.meta.url));

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let dir: string;
let server: RepoServer;
/** 8 + 7 looping CAs: the 15 certificates (7.6 KB) of the report. */
let loops15: string;
/** 20 + 20. */
let loops40: string;
/** 10 + 4: groups too unequal for the bounds to prune; only the work limit stops the search. */
let unequal: string;
let goodBundle: string;

beforeAll(async () => {
  expect(existsSync(new URL("../../build/src/cli/main.js", import.meta.url)), "run 'npm run build' first (npm test does)").toBe(true);
  pki = await TestPki.create();
  trust = await standardPki(pki);
  dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-hostile-pki-"));
  goodBundle = trust.ca.certPem + trust.build.certPem;
  loops15 = (await issuerLoops(pki, 8, 7)).pems.join("");
  const forty = await issuerLoops(pki, 20, 20);
  loops40 = forty.pems.join("");
  unequal = (await issuerLoops(pki, 10, 4)).pems.join("");
  // A package whose signature carries the 40 loops, signed by a key that "loop B" certificates hold.
  const loopSigner = await pki.signer(forty.loopB, "loop signer", { noKeyIdentifiers: true });
  const www = path.join(dir, "www");
  await writeRepository(path.join(www, "loops"), { bundle: goodBundle + loops40, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  await writeRepository(path.join(www, "unequal"), { bundle: goodBundle + unequal, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  await writeRepository(path.join(www, "signed-loops"), { bundle: goodBundle, packages: [{ pkgname: "loopy-1.0", signer: loopSigner, chain: forty.certificates }] });
  server = await startRepoServer({ root: www });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The real binary with a kill timer; the JSON it prints. */
async function pkgtrust(...args: string[]) {
  const started = performance.now();
  const result = await runProcess(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "", PKGTRUST_PKG_ADD: "none" }, cwd: dir, timeoutMs: GENEROUS_MS });
  const elapsed = performance.now() - started;
  expect(result.status, `killed after ${GENEROUS_MS} ms: the path search is exponential`).not.toBeNull();
  return { ...result, elapsed, json: JSON.parse(result.stdout) };
}

function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

function newTarget(): string {
  const target = mkdtempSync(path.join(dir, "target-"));
  mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(target, DEFAULT_ANCHOR), trust.root.certPem);
  return target;
}

const codes = (entries: { code?: string; status?: string }[]) => [...new Set(entries.map((e) => e.code ?? e.status))].sort();

describe("a key bundle of CAs issuing each other without key identifiers", () => {
  it("verify-bundle judges 15 looping CAs at once: each is invalid, too far from any root", async () => {
    const result = await pkgtrust("verify-bundle", file("loops15.pem", loops15), "--anchor", file("anchor.pem", trust.root.certPem), "--at", NOW.toISOString(), "--json");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.certificates).toHaveLength(15);
    // The exact verdict of the search over every path: the path runs into MAX_PATH_LENGTH.
    expect(codes(result.json.certificates)).toEqual(["CERT_PATH_TOO_LONG"]);
  });

  it("bundle lint fails the good bundle plus the loops with one error per looping CA", async () => {
    const result = await pkgtrust("bundle", "lint", file("lint.pem", goodBundle + loops15), "--anchor", "anchor.pem", "--json");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.errors.map((e: { code: string }) => e.code)).toEqual(Array(15).fill("CERT_PATH_TOO_LONG"));
    expect(result.json.certificates.slice(0, 2).map((c: { status: string }) => c.status)).toEqual(["valid", "valid"]);
  });

  it("setup against a mirror serving the good bundle plus 40 looping CAs configures the good keys and leaves the loops out", async () => {
    const target = newTarget();
    const result = await pkgtrust("setup", "--repo", new URL("loops/All/", server.httpUrl).href, "--root", target, "--non-interactive", "--json");
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(codes(result.json.certificates)).toEqual(["CERT_PATH_TOO_LONG", "valid"]);
    expect(result.json.certificates.filter((c: { status: string }) => c.status === "valid")).toHaveLength(2);
    expect(result.json.testInstall.trusted).toBe(true);
  });

  it("verify-package refuses a package whose signature carries the loops, at once", async () => {
    const result = await pkgtrust("verify-package", path.join("www", "signed-loops", "All", "loopy-1.0.tgz"), "--anchor", "anchor.pem", "--at", NOW.toISOString(), "--json");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    // OpenSSL 3.0 builds one chain, each embedded CA used once, until none is left: "unable to
    // get local issuer certificate", as pkg_install reports it (openssl-chain.ts).
    expect(result.json.code).toBe("CERT_NO_ISSUER");
  });
});

describe("a bundle whose search the bounds cannot cut short", () => {
  it("ends in CERT_SEARCH_LIMIT in verify-bundle and bundle lint", async () => {
    const verified = await pkgtrust("verify-bundle", file("unequal.pem", goodBundle + unequal), "--anchor", "anchor.pem", "--at", NOW.toISOString(), "--json");
    expect(verified.status).toBe(EXIT.UNTRUSTED);
    expect(verified.json.error.code).toBe("CERT_SEARCH_LIMIT");
    const linted = await pkgtrust("bundle", "lint", "unequal.pem", "--anchor", "anchor.pem", "--json");
    expect(linted.status).toBe(EXIT.UNTRUSTED);
    expect(linted.json.errors.map((e: { code: string }) => e.code)).toEqual(["CERT_SEARCH_LIMIT"]);
  }, 3 * GENEROUS_MS);

  it("makes setup refuse the bundle and change nothing", async () => {
    const target = newTarget();
    const before = snapshotTree(target);
    const result = await pkgtrust("setup", "--repo", new URL("unequal/All/", server.httpUrl).href, "--root", target, "--non-interactive", "--json");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.failure).toMatchObject({ step: "verify", code: "CERT_SEARCH_LIMIT", unchanged: true });
    expect(snapshotTree(target)).toEqual(before);
  }, 3 * GENEROUS_MS);

  it("takes its limits from the request: one path search, and one budget for a whole bundle", async () => {
    const loops = readBundle(loops15, "loops").certificates;
    const anchors = readBundle(trust.root.certPem, "anchor").certificates;
    const context = { time: NOW, policy: STRICT_POLICY, purpose: "smime-sign" as const };
    const leaf = loops[0] as (typeof loops)[number];
    expect(findTrustedPath({ leaf, untrusted: loops, trusted: anchors, ...context })).toMatchObject({ ok: false, error: { code: "CERT_PATH_TOO_LONG" } });
    const tight = new SearchBudget({ ...PATH_SEARCH_LIMITS, maxSteps: 5 });
    expect(findTrustedPath({ leaf, untrusted: loops, trusted: anchors, ...context, budget: tight })).toMatchObject({ ok: false, error: { code: "CERT_SEARCH_LIMIT" } });
    await expect(verifyBundle({ certificates: loops, crls: [] }, anchors, { ...context, limits: { ...PATH_SEARCH_LIMITS, maxSignatureChecks: 100 } })).rejects.toMatchObject({ code: "CERT_SEARCH_LIMIT" });
  });

  it("counts the CRL issuer checks of a bundle against the same budget", async () => {
    const crls = await Promise.all(Array.from({ length: 6 }, (_, i) => pki.crl(trust.ca, [], { number: i + 1 })));
    const bundle = readBundle(goodBundle + crls.map((c) => c.pem).join(""), "crls");
    const anchors = readBundle(trust.root.certPem, "anchor").certificates;
    const options = { time: NOW, policy: STRICT_POLICY };
    // Two certificates with one issuer each: 2 signature checks for the paths, then one per CRL.
    expect((await verifyBundle(bundle, anchors, { ...options, limits: { ...PATH_SEARCH_LIMITS, maxSignatureChecks: 8 } })).valid).toBe(true);
    await expect(verifyBundle(bundle, anchors, { ...options, limits: { ...PATH_SEARCH_LIMITS, maxSignatureChecks: 7 } })).rejects.toMatchObject({ code: "CERT_SEARCH_LIMIT" });
  });
});
