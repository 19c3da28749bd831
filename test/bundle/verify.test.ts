import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle, verifyBundle, type BundleVerdict } from "../../src/bundle/verify.js";
import { PKG_INSTALL_POLICY, STRICT_POLICY, type Policy } from "../../src/pki/path.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { opensslVerify } from "../pki/openssl.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl verify's verdict on bundle certificates and CRLs");

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;

async function verify(pems: string[], options: { anchors?: Issued[]; policy?: Policy; time?: Date } = {}): Promise<BundleVerdict> {
  const bundle = readBundle(pems.join(""), "pkg_keys.pem");
  const anchors = readBundle((options.anchors ?? [root]).map((a) => a.certPem).join(""), "anchor.pem").certificates;
  return verifyBundle(bundle, anchors, { time: options.time ?? NOW, policy: options.policy ?? STRICT_POLICY });
}

const summary = (verdict: BundleVerdict) => verdict.certificates.map((v) => [v.certificate.subject, v.role, v.code ?? v.status]);

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Bundle Root");
  ca = await pki.intermediate(root, "Bundle CA");
  signer = await pki.signer(ca, "Bundle Signer");
});
afterAll(() => pki.cleanup());

describe("verifyBundle", () => {
  it("accepts an intermediate and a signing certificate, each with its trusted path", async () => {
    const verdict = await verify([ca.certPem, signer.certPem]);
    expect(summary(verdict)).toEqual([
      ["CN=Bundle CA", "intermediate", "valid"],
      ["CN=Bundle Signer", "signing", "valid"],
    ]);
    expect(verdict.valid).toBe(true);
    expect(verdict.certificates[1]?.path?.map((c) => c.subject)).toEqual(["CN=Bundle Signer", "CN=Bundle CA", "CN=Bundle Root"]);
  });

  it("reports a TLS server certificate as invalid with role other (openssl's smimesign purpose refuses it too)", async () => {
    const tls = await pki.tlsServer(ca, "pkgsrc.example.org");
    const verdict = await verify([ca.certPem, signer.certPem, tls.certPem]);
    expect(summary(verdict)[2]).toEqual(["CN=pkgsrc.example.org", "other", "CERT_NOT_PACKAGE_SIGNER"]);
    expect(verdict.valid).toBe(false);
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, untrusted: ca.certPath, cert: tls.certPath, time: NOW }).error).toBe("unsuitable certificate purpose");
  });

  it("reports a signer with EKU codeSigning only as not a package signer", async () => {
    const codeOnly = await pki.signer(ca, "Code Only", { extendedKeyUsage: ["codeSigning"] });
    const verdict = await verify([ca.certPem, codeOnly.certPem]);
    expect(summary(verdict)[1]).toEqual(["CN=Code Only", "other", "CERT_NOT_PACKAGE_SIGNER"]);
  });

  it("refuses a keyUsage-only CA (no basicConstraints) as an intermediate, as OpenSSL does", async () => {
    const kuOnly = await pki.issue(root, "KU Only CA", { keyUsage: ["keyCertSign", "cRLSign"] });
    const verdict = await verify([kuOnly.certPem]);
    expect(summary(verdict)).toEqual([["CN=KU Only CA", "intermediate", "CERT_ISSUER_NOT_CA"]]);
    const leaf = await pki.signer(kuOnly, "Under KU Only");
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, untrusted: kuOnly.certPath, cert: leaf.certPath, time: NOW }).error).toBe("invalid CA certificate");
  });

  it("never gives the signing role to a CA, even with the signer's EKU", async () => {
    const caSigner = await pki.signer(ca, "CA Signer", { ca: true, keyUsage: ["digitalSignature", "keyCertSign"] });
    const verdict = await verify([ca.certPem, caSigner.certPem]);
    expect(verdict.certificates[1]?.role).toBe("intermediate");
  });

  it("reports a chain to a look-alike root as CERT_UNTRUSTED_ROOT", async () => {
    const lookalike = await pki.root("Bundle Root");
    const evilCa = await pki.intermediate(lookalike, "Bundle CA");
    const evil = await pki.signer(evilCa, "Bundle Signer");
    const verdict = await verify([lookalike.certPem, evilCa.certPem, evil.certPem]);
    expect(verdict.certificates.map((v) => v.code)).toEqual(["CERT_UNTRUSTED_ROOT", "CERT_UNTRUSTED_ROOT", "CERT_UNTRUSTED_ROOT"]);
  });

  it("refuses weak algorithms unless the pkg_install policy is asked for", async () => {
    const sha1 = await pki.signer(ca, "SHA1 Bundle Signer", { digest: "sha1" });
    expect(summary(await verify([ca.certPem, sha1.certPem]))[1]).toEqual(["CN=SHA1 Bundle Signer", "signing", "CERT_WEAK_ALGORITHM"]);
    expect((await verify([ca.certPem, sha1.certPem], { policy: PKG_INSTALL_POLICY })).valid).toBe(true);
  });
});

describe("CRLs in the bundle", () => {
  it("revokes a listed signer when the CRL verifies against its valid issuer (openssl -crl_check agrees)", async () => {
    const other = await pki.signer(ca, "Other Signer");
    const crl = await pki.crl(ca, [{ serial: signer.serial }], { number: 7, nextUpdate: new Date("2026-07-01T00:00:00Z") });
    const verdict = await verify([ca.certPem, signer.certPem, other.certPem, crl.pem]);
    expect(summary(verdict)).toEqual([
      ["CN=Bundle CA", "intermediate", "valid"],
      ["CN=Bundle Signer", "signing", "CERT_REVOKED"],
      ["CN=Other Signer", "signing", "valid"],
    ]);
    expect(verdict.crls[0]).toMatchObject({ status: "valid" });
    expect(verdict.crls[0]?.crl.number).toBe(7n);
    expect(verdict.crls[0]?.crl.nextUpdate?.toISOString()).toBe("2026-07-01T00:00:00.000Z");
    // The root has no CRL here, so openssl checks only the leaf's CRL (-crl_check, not -crl_check_all).
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, untrusted: ca.certPath, cert: signer.certPath, time: NOW, crl: crl.path }).error).toBe("certificate revoked");
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, untrusted: ca.certPath, cert: other.certPath, time: NOW, crl: crl.path }).ok).toBe(true);
  });

  it("revokes an intermediate through the root's CRL, and everything below it", async () => {
    const crl = await pki.crl(root, [{ serial: ca.serial }]);
    const verdict = await verify([ca.certPem, signer.certPem, crl.pem]);
    expect(verdict.certificates.map((v) => v.code)).toEqual(["CERT_REVOKED", "CERT_REVOKED"]);
  });

  it("treats a CRL that does not verify as an error, not as absent", async () => {
    const other = await pki.root("Forger");
    const crl = await pki.crl(ca, [], { signWith: other });
    const verdict = await verify([ca.certPem, signer.certPem, crl.pem]);
    expect(verdict.crls[0]).toMatchObject({ status: "invalid", code: "CRL_BAD_SIGNATURE" });
    expect(verdict.certificates[1]).toMatchObject({ status: "invalid", code: "CRL_BAD_SIGNATURE" });
    expect(verdict.valid).toBe(false);
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, untrusted: ca.certPath, cert: signer.certPath, time: NOW, crl: crl.path }).error).toBe("CRL signature failure");
  });

  it("refuses a CRL signed by a CA whose keyUsage lacks cRLSign (openssl agrees)", async () => {
    const noCrlSign = await pki.intermediate(root, "No CRLSign CA", { keyUsage: ["keyCertSign"] });
    const leaf = await pki.signer(noCrlSign, "Under No CRLSign");
    const crl = await pki.crl(noCrlSign, []);
    const verdict = await verify([noCrlSign.certPem, leaf.certPem, crl.pem]);
    expect(verdict.crls[0]?.code).toBe("CRL_ISSUER_NOT_CRL_SIGNER");
    expect(verdict.certificates[1]?.code).toBe("CRL_ISSUER_NOT_CRL_SIGNER");
    const openssl = opensslVerify({ anchor: root.certPath, untrusted: noCrlSign.certPath, cert: leaf.certPath, time: NOW, crl: crl.path });
    if (OPENSSL) expect(openssl.error).toBe("key usage does not include CRL signing");
  });

  it("refuses a CRL whose issuer is not a valid CA of the bundle", async () => {
    const stranger = await pki.root("Stranger");
    const crl = await pki.crl(stranger, []);
    const verdict = await verify([ca.certPem, crl.pem]);
    expect(verdict.crls[0]?.code).toBe("CRL_NO_ISSUER");
    expect(verdict.valid).toBe(false);
  });
});
