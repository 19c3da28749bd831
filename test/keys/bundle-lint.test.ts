import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BUNDLE_BYTES } from "../../src/trust/bundle-rules.js";
import { EXIT } from "../../src/errors.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { standardPki } from "../fixtures/repository.js";
import { pkgtrust } from "./operator-cli.js";

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let soon: Issued;
let orphan: Issued;
/** The root's CRL, which a published bundle carries (without it, LINT_ROOT_CRL_MISSING). */
let rootCrl: string;
const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-bundle-lint-"));
const DAY_MS = 86_400_000;

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  soon = await pki.signer(trust.ca, "expiring build machine", { notAfter: new Date(NOW.getTime() + 10 * DAY_MS) });
  const unpublishedCa = await pki.intermediate(trust.root, "unpublished CA");
  orphan = await pki.signer(unpublishedCa, "orphan build machine");
  rootCrl = (await pki.crl(trust.root, [], { number: 1 })).pem;
});
afterAll(async () => {
  await pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
/** Lints exactly `bundle`. */
async function lintAsIs(bundle: string | Buffer, ...extra: string[]) {
  const cwd = mkdtempSync(path.join(dir, `w${count++}-`));
  writeFileSync(path.join(cwd, "anchor.pem"), trust.root.certPem);
  writeFileSync(path.join(cwd, "pkg_keys.pem"), bundle);
  return pkgtrust(["bundle", "lint", "pkg_keys.pem", "--anchor", "anchor.pem", "--json", ...extra], { cwd, now: NOW });
}
/** Lints `bundle` with the root's CRL added, as a published bundle has it. */
const lint = (bundle: string | Buffer, ...extra: string[]) => lintAsIs(typeof bundle === "string" ? bundle + rootCrl : bundle, ...extra);
const codes = (findings: { code: string }[]) => findings.map((f) => f.code).sort();

describe("pkgtrust bundle lint", () => {
  it("passes a good bundle with no findings", async () => {
    const crl = await pki.crl(trust.ca, [], { number: 1 });
    const result = await lint(trust.ca.certPem + trust.build.certPem + crl.pem);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(result.json).toMatchObject({ ok: true, errors: [], warnings: [] });
    expect(result.json.certificates.map((c: { role: string; status: string }) => `${c.role} ${c.status}`)).toEqual(["intermediate valid", "signing valid"]);
  });

  it("fails a bundle with one certificate from another root, as setup does", async () => {
    const result = await lint(trust.ca.certPem + trust.build.certPem + trust.rogueCa.certPem + trust.rogueBuild.certPem);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(codes(result.json.errors)).toContain("BOOT_FOREIGN_ROOT");
  });

  it("fails a bundle without a valid signing certificate", async () => {
    const result = await lint(trust.ca.certPem);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(codes(result.json.errors)).toEqual(["BOOT_NO_SIGNING_CERT"]);
  });

  it("warns about a certificate expiring within --warn-days, and fails on it only with --strict", async () => {
    const bundle = trust.ca.certPem + trust.build.certPem + soon.certPem;
    const plain = await lint(bundle);
    expect(plain.status).toBe(EXIT.OK);
    expect(plain.json.warnings).toEqual([expect.objectContaining({ code: "LINT_EXPIRES_SOON", message: expect.stringContaining("in 10 days") })]);
    expect((await lint(bundle, "--warn-days", "5")).json.warnings).toEqual([]);
    const strict = await lint(bundle, "--strict");
    expect(strict.status).toBe(EXIT.UNTRUSTED);
    expect(strict.json.ok).toBe(false);
  });

  it("warns about a signing certificate whose issuer is missing, which clients also refuse", async () => {
    const result = await lint(trust.ca.certPem + trust.build.certPem + orphan.certPem);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(codes(result.json.warnings)).toEqual(["LINT_SIGNING_ISSUER_MISSING"]);
    expect(codes(result.json.errors)).toEqual(["CERT_NO_ISSUER"]);
  });

  it("warns about a CRL close to its nextUpdate and fails one past it, as refresh does", async () => {
    const closing = await pki.crl(trust.ca, [], { number: 2, nextUpdate: new Date(NOW.getTime() + 3 * DAY_MS) });
    const near = await lint(trust.ca.certPem + trust.build.certPem + closing.pem);
    expect(near.status).toBe(EXIT.OK);
    expect(codes(near.json.warnings)).toEqual(["LINT_CRL_NEXT_UPDATE_SOON"]);
    expect((await lint(trust.ca.certPem + trust.build.certPem + closing.pem, "--crl-warn-days", "1")).json.warnings).toEqual([]);
    const stale = await pki.crl(trust.ca, [], { number: 2, thisUpdate: new Date(NOW.getTime() - 40 * DAY_MS), nextUpdate: new Date(NOW.getTime() - DAY_MS) });
    const past = await lint(trust.ca.certPem + trust.build.certPem + stale.pem);
    expect(past.status).toBe(EXIT.UNTRUSTED);
    expect(codes(past.json.errors)).toEqual(["BOOT_STALE_CRL"]);
  });

  it("fails a CRL that does not verify, and only warns about a revoked certificate still in the bundle", async () => {
    const forged = await pki.crl(trust.ca, [], { number: 2, signWith: trust.rogueCa });
    expect(codes((await lint(trust.ca.certPem + trust.build.certPem + forged.pem)).json.errors)).toEqual(expect.arrayContaining(["CRL_BAD_SIGNATURE"]));
    const extra = await pki.signer(trust.ca, "retired build machine");
    const crl = await pki.crl(trust.ca, [{ serial: extra.serial }], { number: 3 });
    const result = await lint(trust.ca.certPem + trust.build.certPem + extra.certPem + crl.pem);
    expect(result.status).toBe(EXIT.OK);
    expect(codes(result.json.warnings)).toEqual(["CERT_REVOKED"]);
  });

  it("fails what clients refuse to read: over 1 MiB, a private key, not PEM at all", async () => {
    const big = await lint(Buffer.concat([Buffer.from(trust.ca.certPem + trust.build.certPem), Buffer.alloc(MAX_BUNDLE_BYTES, "\n")]));
    expect(big.status).toBe(EXIT.UNTRUSTED);
    expect(codes(big.json.errors)).toEqual(["FETCH_TOO_LARGE"]);
    expect(codes((await lint(trust.ca.certPem + trust.build.keyPem)).json.errors)).toEqual(["PEM_UNEXPECTED_BLOCK"]);
    expect(codes((await lint("<html>not found</html>\n")).json.errors)).toEqual(["PEM_EMPTY"]);
  });

  it("warns when the bundle lacks the root's CRL, and not when the root issued nothing in it", async () => {
    const bare = await lintAsIs(trust.ca.certPem + trust.build.certPem);
    expect(bare.status).toBe(EXIT.OK);
    expect(codes(bare.json.warnings)).toEqual(["LINT_ROOT_CRL_MISSING"]);
    expect((await lintAsIs(trust.ca.certPem + trust.build.certPem, "--strict")).status).toBe(EXIT.UNTRUSTED);
    // A CRL of the intermediate is not the root's.
    const caCrl = await pki.crl(trust.ca, [], { number: 1 });
    expect(codes((await lintAsIs(trust.ca.certPem + trust.build.certPem + caCrl.pem)).json.warnings)).toEqual(["LINT_ROOT_CRL_MISSING"]);
    expect((await lint(trust.ca.certPem + trust.build.certPem + caCrl.pem)).json.warnings).toEqual([]);
  });

  it("passes a signing certificate with an EKU OpenSSL does not know, as pkg_install accepts it, and says so", async () => {
    const privateEku = await pki.signer(trust.ca, "private EKU build machine", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.4.1.99999.7"] });
    const result = await lint(trust.ca.certPem + privateEku.certPem);
    expect(result.status).toBe(EXIT.OK);
    expect(result.json.certificates.map((c: { role: string; status: string }) => `${c.role} ${c.status}`)).toEqual(["intermediate valid", "signing valid"]);
    expect(codes(result.json.warnings)).toEqual(["LINT_UNKNOWN_EKU"]);
    expect(result.json.errors).toEqual([]);
  });

  it("warns about the anchor itself in the bundle", async () => {
    const result = await lint(trust.root.certPem + trust.ca.certPem + trust.build.certPem);
    expect(codes(result.json.warnings)).toEqual(["LINT_ANCHOR_IN_BUNDLE"]);
  });

  it("prints its findings for people", async () => {
    const cwd = mkdtempSync(path.join(dir, "text-"));
    writeFileSync(path.join(cwd, "anchor.pem"), trust.root.certPem);
    writeFileSync(path.join(cwd, "pkg_keys.pem"), trust.ca.certPem + rootCrl);
    const result = await pkgtrust(["bundle", "lint", "pkg_keys.pem", "--anchor", "anchor.pem"], { cwd, now: NOW });
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.stdout).toMatch(/^error {4}the key bundle holds no valid build certificate .* \[BOOT_NO_SIGNING_CERT\]$/m);
    expect(result.stdout).toContain("pkg_keys.pem: 1 certificate(s), 1 CRL(s), 1 error(s), 0 warning(s)");
  });
});
