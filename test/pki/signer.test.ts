import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/pki/certificate.js";
import { packageSignerProblem } from "../../src/pki/signer.js";
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
