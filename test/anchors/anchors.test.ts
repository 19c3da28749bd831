import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalogue, readCatalogue, shippedCatalogue, type Catalogue } from "../../src/anchors/catalogue.js";
import { checkAnchors } from "../../src/anchors/check.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { EXIT } from "../../src/errors.js";
import { runCli } from "../fixtures/cli.js";
import { TestPki, type Issued } from "../fixtures/pki.js";
import { requireTool } from "../fixtures/requirements.js";

const execFileAsync = promisify(execFile);

/** The fingerprint as release engineering takes it: `openssl x509 -fingerprint -sha256`, "AB:CD:..." form (node's, the same form, without openssl). */
async function opensslFingerprint(certPath: string): Promise<string> {
  if (!requireTool("openssl", "catalogue fingerprints as openssl prints them")) return new X509Certificate(readFileSync(certPath)).fingerprint256;
  const { stdout } = await execFileAsync("openssl", ["x509", "-in", certPath, "-noout", "-fingerprint", "-sha256"]);
  return stdout.trim().replace(/^.*=/, "");
}

let pki: TestPki;
let work: string;
let anchor: Issued;
let next: Issued;
let catalogueFile: string;
let catalogue: Catalogue;

function target(...pems: string[]): TargetRoot {
  const dir = mkdtempSync(path.join(work, "target-"));
  if (pems.length > 0) {
    mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
    writeFileSync(path.join(dir, DEFAULT_ANCHOR), pems.join(""));
  }
  return new TargetRoot(dir);
}


beforeAll(async () => {
  pki = await TestPki.create();
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-anchors-"));
  anchor = await pki.root("pkgsrc CA");
  next = await pki.root("pkgsrc CA 2030");
  catalogueFile = path.join(work, "catalogue.json");
  writeFileSync(catalogueFile, JSON.stringify({ version: 1, anchors: [{ name: "pkgsrc CA (test)", path: DEFAULT_ANCHOR, sha256: await opensslFingerprint(anchor.certPath) }] }));
  catalogue = await readCatalogue(catalogueFile);
});
afterAll(async () => {
  await pki?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe("the anchor catalogue", () => {
  it("ships empty: no invented production anchor", () => {
    expect(shippedCatalogue()).toEqual({ version: 1, anchors: [] });
  });

  it("takes openssl's colon fingerprint and keeps it as lowercase hex", () => {
    expect(catalogue.anchors[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a short fingerprint, a relative path, unknown keys, another version and duplicates", () => {
    const entry = { name: "x", path: "/etc/a.pem", sha256: "ab".repeat(32) };
    expect(() => parseCatalogue(JSON.stringify({ version: 1, anchors: [{ ...entry, sha256: "ab".repeat(31) }] }), "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
    expect(() => parseCatalogue(JSON.stringify({ version: 1, anchors: [{ ...entry, path: "etc/a.pem" }] }), "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
    expect(() => parseCatalogue(JSON.stringify({ version: 1, anchors: [{ ...entry, trusted: true }] }), "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
    expect(() => parseCatalogue(JSON.stringify({ version: 2, anchors: [] }), "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
    expect(() => parseCatalogue(JSON.stringify({ version: 1, anchors: [entry, { ...entry, sha256: entry.sha256.toUpperCase() }] }), "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
    expect(() => parseCatalogue("{", "c")).toThrowWithCode("ANCHORS_CATALOGUE_INVALID");
  });
});

describe("checkAnchors", () => {
  it("passes a file holding exactly the catalogued certificate", async () => {
    const [result] = await checkAnchors(catalogue, target(anchor.certPem));
    expect(result?.ok).toBe(true);
  });

  it("refuses a look-alike, an extra certificate, a missing or damaged file", async () => {
    const codes = async (root: TargetRoot) => (await checkAnchors(catalogue, root)).map((r) => r.code);
    expect(await codes(target(next.certPem))).toEqual(["ANCHOR_MISMATCH"]);
    // pkg_install trusts every certificate of its anchor file: an extra one widens trust.
    expect(await codes(target(anchor.certPem, next.certPem))).toEqual(["ANCHOR_MISMATCH"]);
    expect(await codes(target())).toEqual(["ANCHOR_FILE_MISSING"]);
    expect(await codes(target(anchor.certPem.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!")))).toEqual(["ANCHOR_FILE_MALFORMED"]);
  });

  it("passes during a rotation when the file holds both catalogued roots, and fails when one is gone", async () => {
    const entry = { name: "pkgsrc CA 2030", path: DEFAULT_ANCHOR, sha256: await opensslFingerprint(next.certPath) };
    const both = parseCatalogue(JSON.stringify({ version: 1, anchors: [...catalogue.anchors, entry] }), "rotation");
    expect((await checkAnchors(both, target(next.certPem, anchor.certPem)))[0]?.ok).toBe(true);
    expect((await checkAnchors(both, target(anchor.certPem)))[0]?.code).toBe("ANCHOR_MISMATCH");
  });

  it("fails closed on an empty catalogue", async () => {
    await expect(checkAnchors({ version: 1, anchors: [] }, target(anchor.certPem))).rejects.toThrowWithCode("ANCHORS_CATALOGUE_EMPTY");
  });
});

describe("pkgtrust anchors check", () => {
  it("exits 0 with JSON for a matching target and 1 for a mismatch", async () => {
    const good = await runCli(["anchors", "check", "--root", target(anchor.certPem).dir, "--catalogue", catalogueFile, "--json"]);
    expect(good.status).toBe(EXIT.OK);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, files: [{ path: DEFAULT_ANCHOR, ok: true }] });
    const bad = await runCli(["anchors", "check", "--root", target(next.certPem).dir, "--catalogue", catalogueFile]);
    expect(bad.status).toBe(EXIT.UNTRUSTED);
    expect(bad.stdout).toMatch(/FAILED \/usr\/share\/certs\/pkgsrc\/pkgsrc-ca\.pem: .*\[ANCHOR_MISMATCH\]/);
  });

  it("refuses to pass with the shipped, empty catalogue, and an unknown action", async () => {
    const empty = await runCli(["anchors", "check", "--root", target(anchor.certPem).dir, "--json"]);
    expect(empty.status).toBe(EXIT.CONFIG);
    expect(JSON.parse(empty.stdout).error.code).toBe("ANCHORS_CATALOGUE_EMPTY");
    expect((await runCli(["anchors", "list"])).status).toBe(EXIT.USAGE);
  });
});
