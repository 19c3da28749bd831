import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/pki/certificate.js";
import { extendedKeyUsageBits, packageSignerProblem, signerNotes } from "../../src/pki/signer.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { opensslVerify } from "./openssl.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl's S/MIME signing purpose on each signer");

let pki: TestPki;
let root: Issued;
const problem = (issued: Issued) => packageSignerProblem(parseCertificate(issued.der))?.code ?? "OK";
const openssl = (issued: Issued) => opensslVerify({ anchor: root.certPath, cert: issued.certPath, time: NOW });

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Signer Root");
});
afterAll(() => pki.cleanup());

// pkg_install's signer rules (lib/pkcs7.c) run after OpenSSL's smime_sign checks; openssl verify
// checks only the latter, so each case states which side refuses.
describe("packageSignerProblem", () => {
  it("accepts pkg_install's profile: not a CA, EKU exactly codeSigning + emailProtection", async () => {
    const signer = await pki.signer(root, "Good Signer");
    expect(problem(signer)).toBe("OK");
    if (OPENSSL) expect(openssl(signer).ok).toBe(true);
  });

  it("refuses EKU codeSigning only (openssl's smime_sign purpose refuses it too)", async () => {
    const signer = await pki.signer(root, "Code Only", { extendedKeyUsage: ["codeSigning"] });
    expect(problem(signer)).toBe("CERT_NOT_PACKAGE_SIGNER");
    if (OPENSSL) expect(openssl(signer).error).toBe("unsuitable certificate purpose");
  });

  it("refuses a missing EKU and an extra serverAuth, which openssl's purpose check accepts", async () => {
    for (const extendedKeyUsage of [null, ["codeSigning", "emailProtection", "serverAuth"], ["codeSigning", "emailProtection", "anyExtendedKeyUsage"]]) {
      const signer = await pki.signer(root, "EKU Variant", { extendedKeyUsage });
      expect(problem(signer)).toBe("CERT_NOT_PACKAGE_SIGNER");
      if (OPENSSL) expect(openssl(signer).ok).toBe(true); // only pkg_install's own check refuses these
    }
  });

  it("refuses a signer that is a CA by basicConstraints or by keyUsage keyCertSign", async () => {
    const byBc = await pki.signer(root, "CA Signer", { ca: true, keyUsage: ["digitalSignature", "keyCertSign"] });
    const byKu = await pki.issue(root, "KU Signer", { keyUsage: ["digitalSignature", "keyCertSign"], extendedKeyUsage: ["codeSigning", "emailProtection"] });
    expect(problem(byBc)).toBe("CERT_NOT_PACKAGE_SIGNER");
    expect(problem(byKu)).toBe("CERT_NOT_PACKAGE_SIGNER");
    expect(parseCertificate(byKu.der).caLevel).toBe(4);
    // openssl's leaf checks do not care whether the signer is a CA: pkg_install's check_ca does.
    if (OPENSSL) expect(openssl(byBc).ok).toBe(true);
    if (OPENSSL) expect(openssl(byKu).ok).toBe(true);
  });
});

describe("extended key usage as X509_get_extended_key_usage counts it", () => {
  it("ignores OIDs OpenSSL does not know, counts the ones it knows, and gives all bits without the extension", async () => {
    const bits = async (extendedKeyUsage: string[] | null) => extendedKeyUsageBits(parseCertificate((await pki.signer(root, "Bits", { extendedKeyUsage })).der));
    expect(await bits(["codeSigning", "emailProtection"])).toBe(0xc);
    expect(await bits(["codeSigning", "emailProtection", "1.3.6.1.4.1.99999.1", "1.2.3.4"])).toBe(0xc);
    expect(await bits(["codeSigning", "emailProtection", "1.3.6.1.4.1.311.10.3.3"])).toBe(0x1c);
    expect(await bits(["2.16.840.1.113730.4.1", "1.3.6.1.5.5.7.3.10", "OCSPSigning", "timeStamping", "anyExtendedKeyUsage", "serverAuth", "clientAuth"])).toBe(0x1f3);
    expect(await bits(null)).toBe(0xffffffff);
  });

  it("accepts a signer with a private OID besides codeSigning + emailProtection, and notes it", async () => {
    const signer = parseCertificate((await pki.signer(root, "Private", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.4.1.99999.1"] })).der);
    expect(packageSignerProblem(signer)).toBeUndefined();
    expect(signerNotes(signer).join()).toMatch(/1\.3\.6\.1\.4\.1\.99999\.1.*pkg_install ignores it/);
  });
});

describe("X509_check_ca, branch by branch", () => {
  const level = async (options: Parameters<TestPki["issue"]>[2], self = false) =>
    parseCertificate((self ? await pki.root("Level Root", options) : await pki.issue(root, "Level", options)).der).caLevel;
  it("follows basicConstraints when present, whatever keyUsage says (unless it lacks keyCertSign)", async () => {
    expect(await level({ ca: true, keyUsage: ["keyCertSign"] })).toBe(1);
    expect(await level({ ca: false, keyUsage: ["digitalSignature", "keyCertSign"] })).toBe(0);
    expect(await level({ ca: true, keyUsage: ["digitalSignature"] })).toBe(0);
  });
  it("without basicConstraints: a self-signed v1 certificate, then keyUsage keyCertSign, then a Netscape CA type", async () => {
    expect(await level({ v1: true, ca: undefined, keyUsage: null }, true)).toBe(3);
    expect(await level({ v1: true, ca: undefined, keyUsage: null })).toBe(0); // v1 but issued by another
    expect(await level({ keyUsage: ["keyCertSign"] })).toBe(4);
    for (const ns of [0x04, 0x02, 0x01]) expect(await level({ keyUsage: null, netscapeCertType: ns | 0x20 })).toBe(5);
    expect(await level({ keyUsage: null, netscapeCertType: 0x20 | 0x80 })).toBe(0);
    expect(await level({ keyUsage: ["digitalSignature"], netscapeCertType: 0x07 })).toBe(0);
  });
});
