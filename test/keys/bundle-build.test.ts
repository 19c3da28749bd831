import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { standardPki } from "../fixtures/repository.js";
import { openssl, pkgtrust } from "./operator-cli.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl verify on the built bundle");

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let ca2: Issued;
let build2: Issued;
let expired: Issued;
let revoked: Issued;
let tls: Issued;
const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-bundle-build-"));

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  ca2 = await pki.intermediate(trust.root, "another developer CA");
  build2 = await pki.signer(ca2, "another build machine");
  expired = await pki.signer(trust.ca, "old build machine", { notAfter: new Date("2025-01-01T00:00:00Z") });
  revoked = await pki.signer(trust.ca, "stolen build machine");
  tls = await pki.tlsServer(trust.ca, "www.example.org");
});
afterAll(async () => {
  await pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
/** A working directory holding anchor.pem and one file per named PEM text. */
function workdir(files: Record<string, string>): string {
  const cwd = mkdtempSync(path.join(dir, `w${count++}-`));
  writeFileSync(path.join(cwd, "anchor.pem"), trust.root.certPem);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(cwd, name), text);
  return cwd;
}

const build = (cwd: string, inputs: string[], json = true) => pkgtrust(["bundle", "build", "--anchor", "anchor.pem", "--out", "pkg_keys.pem", ...inputs, ...(json ? ["--json"] : [])], { cwd, now: NOW });
const at = ["-attime", String(Math.floor(NOW.getTime() / 1000))];

describe("pkgtrust bundle build", () => {
  it("keeps what verifies against the anchor, issuers first, and says why the rest was dropped", async () => {
    const crl = await pki.crl(trust.ca, [{ serial: revoked.serial }], { number: 3 });
    const inputs = {
      "root.pem": trust.root.certPem,
      "certs.pem": build2.certPem + trust.build.certPem + trust.ca.certPem + ca2.certPem + trust.build.certPem,
      "bad.pem": expired.certPem + revoked.certPem + tls.certPem,
      "rogue.pem": trust.lookalike.certPem + trust.rogueCa.certPem + trust.rogueBuild.certPem,
      "ca.crl.pem": crl.pem,
    };
    const cwd = workdir(inputs);
    const result = await build(cwd, Object.keys(inputs));
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(result.json.written).toBe(true);
    // Depth first, then subject: the two developer CAs, then their build machines.
    expect(result.json.certificates.map((c: { subject: string; depth: number }) => `${c.depth} ${c.subject}`)).toEqual([
      "1 CN=another developer CA",
      "1 CN=pkgsrc developer CA",
      "2 CN=another build machine",
      "2 CN=build machine",
    ]);
    expect(result.json.crls).toEqual([expect.objectContaining({ issuer: "CN=pkgsrc developer CA", number: "3" })]);
    const dropped = Object.fromEntries(result.json.dropped.map((d: { subject: string; code: string; source: string }) => [`${d.source} ${d.subject}`, d.code]));
    expect(dropped).toMatchObject({
      "root.pem CN=pkgsrc CA": "BUNDLE_IS_ANCHOR",
      "bad.pem CN=old build machine": "CERT_EXPIRED",
      "bad.pem CN=stolen build machine": "CERT_REVOKED",
      "bad.pem CN=www.example.org": "CERT_NOT_PACKAGE_SIGNER",
      "rogue.pem CN=build machine": "CERT_UNTRUSTED_ROOT",
    });
    expect(result.json.dropped).toHaveLength(7);

    // The file itself: certificates then the CRL, public mode, and openssl agrees with every verdict.
    const written = readFileSync(path.join(cwd, "pkg_keys.pem"), "utf8");
    const parsed = readCertificateFile(written, "pkg_keys.pem");
    expect(parsed.certificates.map((c) => c.subject)).toEqual(result.json.certificates.map((c: { subject: string }) => c.subject));
    expect(parsed.crls).toHaveLength(1);
    expect(written.lastIndexOf("BEGIN CERTIFICATE")).toBeLessThan(written.indexOf("BEGIN X509 CRL"));
    expect(statSync(path.join(cwd, "pkg_keys.pem")).mode & 0o777).toBe(0o644);
    for (const leaf of [trust.build, build2]) {
      writeFileSync(path.join(cwd, "leaf.pem"), leaf.certPem);
      if (OPENSSL) expect((await openssl(["verify", ...at, "-CAfile", "anchor.pem", "-untrusted", "pkg_keys.pem", "-purpose", "smimesign", "leaf.pem"], cwd)).ok).toBe(true);
    }
    writeFileSync(path.join(cwd, "all.pem"), Object.values(inputs).join(""));
    for (const [leaf, error] of [[expired, "certificate has expired"], [trust.rogueBuild, "self-signed certificate in certificate chain"]] as const) {
      writeFileSync(path.join(cwd, "leaf.pem"), leaf.certPem);
      if (OPENSSL) expect((await openssl(["verify", ...at, "-CAfile", "anchor.pem", "-untrusted", "all.pem", "-purpose", "smimesign", "leaf.pem"], cwd)).output).toContain(error);
    }
    writeFileSync(path.join(cwd, "leaf.pem"), revoked.certPem);
    writeFileSync(path.join(cwd, "cas.pem"), trust.root.certPem + trust.ca.certPem);
    if (OPENSSL) expect((await openssl(["verify", ...at, "-CAfile", "cas.pem", "-crl_check", "-CRLfile", "ca.crl.pem", "-purpose", "smimesign", "leaf.pem"], cwd)).output).toContain("certificate revoked");

    // And the clients' own verification takes all of it.
    const verified = await pkgtrust(["verify-bundle", "pkg_keys.pem", "--anchor", "anchor.pem", "--json"], { cwd, now: NOW });
    expect(verified.json.valid).toBe(true);
  });

  it("takes the root's CRL: a revoked developer CA goes, with every build certificate below it", async () => {
    const rootCrl = await pki.crl(trust.root, [{ serial: ca2.serial }], { number: 1 });
    const cwd = workdir({ "certs.pem": trust.ca.certPem + trust.build.certPem + ca2.certPem + build2.certPem, "root.crl.pem": rootCrl.pem });
    const result = await build(cwd, ["certs.pem", "root.crl.pem"]);
    expect(result.status).toBe(EXIT.OK);
    expect(result.json.certificates.map((c: { subject: string }) => c.subject)).toEqual(["CN=pkgsrc developer CA", "CN=build machine"]);
    expect(result.json.crls).toEqual([expect.objectContaining({ issuer: "CN=pkgsrc CA", number: "1" })]);
    expect(result.json.dropped.map((d: { subject: string; code: string }) => `${d.subject} ${d.code}`).sort()).toEqual(["CN=another build machine CERT_REVOKED", "CN=another developer CA CERT_REVOKED"]);
  });

  it("writes the same bytes whatever the order of its inputs", async () => {
    const crl = await pki.crl(trust.ca, [], { number: 1 });
    const files = { "a.pem": trust.ca.certPem + trust.build.certPem, "b.pem": build2.certPem + ca2.certPem, "c.pem": crl.pem };
    const first = workdir(files);
    const second = workdir(files);
    expect((await build(first, ["a.pem", "b.pem", "c.pem"])).status).toBe(EXIT.OK);
    expect((await build(second, ["c.pem", "b.pem", "a.pem"])).status).toBe(EXIT.OK);
    expect(readFileSync(path.join(first, "pkg_keys.pem"))).toEqual(readFileSync(path.join(second, "pkg_keys.pem")));
  });

  it("keeps only the newest CRL of each CA", async () => {
    const older = await pki.crl(trust.ca, [{ serial: revoked.serial }], { number: 1 });
    const newer = await pki.crl(trust.ca, [{ serial: revoked.serial }], { number: 2 });
    const cwd = workdir({ "certs.pem": trust.ca.certPem + trust.build.certPem, "crls.pem": newer.pem + older.pem });
    const result = await build(cwd, ["certs.pem", "crls.pem"]);
    expect(result.json.crls.map((c: { number: string }) => c.number)).toEqual(["2"]);
    expect(result.json.dropped).toEqual([expect.objectContaining({ kind: "crl", code: "BUNDLE_CRL_SUPERSEDED" })]);
  });

  it("fails closed on a CRL that does not verify: the CA's certificates go too, and with nothing usable left nothing is written", async () => {
    const forged = await pki.crl(trust.ca, [], { number: 9, signWith: ca2 });
    const cwd = workdir({ "certs.pem": trust.ca.certPem + trust.build.certPem, "forged.pem": forged.pem, "pkg_keys.pem": "published before\n" });
    const result = await build(cwd, ["certs.pem", "forged.pem"]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.written).toBe(false);
    expect(result.json.dropped.map((d: { code: string }) => d.code)).toEqual(expect.arrayContaining(["CRL_BAD_SIGNATURE"]));
    expect(result.json.certificates.some((c: { role: string }) => c.role === "signing")).toBe(false);
    expect(readFileSync(path.join(cwd, "pkg_keys.pem"), "utf8")).toBe("published before\n");
  });

  it("keeps a CRL past its nextUpdate (leaving it out would un-revoke) and warns that refresh refuses it", async () => {
    const stale = await pki.crl(trust.ca, [{ serial: revoked.serial }], { number: 4, thisUpdate: new Date("2026-01-01T00:00:00Z"), nextUpdate: new Date("2026-02-01T00:00:00Z") });
    const cwd = workdir({ "certs.pem": trust.ca.certPem + trust.build.certPem + revoked.certPem, "stale.pem": stale.pem });
    const result = await build(cwd, ["certs.pem", "stale.pem"]);
    expect(result.status).toBe(EXIT.OK);
    expect(result.json.crls).toHaveLength(1);
    expect(result.json.warnings).toEqual([expect.objectContaining({ code: "BOOT_STALE_CRL" })]);
    expect(result.json.dropped).toEqual([expect.objectContaining({ subject: "CN=stolen build machine", code: "CERT_REVOKED" })]);
  });

  it("refuses a private key among its inputs, an anchor file without a root, and missing inputs", async () => {
    const cwd = workdir({ "certs.pem": trust.ca.certPem + trust.build.certPem, "build.key": trust.build.keyPem, "ca-only.pem": trust.ca.certPem });
    const key = await build(cwd, ["certs.pem", "build.key"]);
    expect(key.status).toBe(EXIT.INPUT);
    expect(key.json.error.code).toBe("PEM_UNEXPECTED_BLOCK");
    const noRoot = await pkgtrust(["bundle", "build", "--anchor", "ca-only.pem", "--out", "pkg_keys.pem", "certs.pem", "--json"], { cwd, now: NOW });
    expect(noRoot.json.error.code).toBe("BUNDLE_ANCHOR_NO_ROOT");
    expect((await build(cwd, ["nowhere.pem"])).json.error.code).toBe("BUNDLE_INPUT_UNREADABLE");
    expect((await build(cwd, [])).json.error.code).toBe("USAGE_MISSING_ARGUMENT");
    expect(existsSync(path.join(cwd, "pkg_keys.pem"))).toBe(false);
  });

  it("prints what it kept and dropped for people", async () => {
    const cwd = workdir({ "certs.pem": trust.root.certPem + trust.ca.certPem + trust.build.certPem });
    const result = await build(cwd, ["certs.pem"], false);
    expect(result.status).toBe(EXIT.OK);
    expect(result.stdout).toContain("kept     signing       CN=build machine");
    expect(result.stdout).toContain("dropped  certificate   CN=pkgsrc CA (certs.pem): the anchor itself");
    expect(result.stdout).toContain("pkg_keys.pem: 2 certificate(s), 0 CRL(s), 1 input(s) dropped");
  });
});
