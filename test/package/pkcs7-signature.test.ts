import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPkcs7Signature, verifySigners } from "../../src/package/pkcs7-signature.js";
import { decideTrust } from "../../src/package/verdict.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { opensslSign } from "../fixtures/packages.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "signatures only the openssl CLI makes (two signers, SHA-1, CMS key ids, attached content)");

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;
const content = Buffer.from("pkgsrc signature\n\nversion: 1\n");

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("P7 Root");
  ca = await pki.intermediate(root, "P7 CA");
  signer = await pki.signer(ca, "P7 Signer");
});
afterAll(async () => pki?.cleanup());

function openssl(args: string[]): Buffer {
  const input = join(pki.dir, "content");
  writeFileSync(input, content);
  const output = join(pki.dir, "out.pem");
  execFileSync("openssl", [...args, "-in", input, "-out", output], { stdio: ["ignore", "ignore", "pipe"] });
  return readFileSync(output);
}

const trust = () => ({ anchors: readCertificateFile(root.certPem, "anchor").certificates, chain: [] });

describe("the PKCS#7 signature", () => {
  it.runIf(OPENSSL)("checks every signer of a signature with two, as PKCS7_verify does", async () => {
    const second = await pki.signer(ca, "P7 Second", { key: "rsa-2048" });
    const pem = openssl(["smime", "-sign", "-binary", "-noattr", "-outform", "PEM", "-signer", signer.certPath, "-inkey", signer.keyPath, "-signer", second.certPath, "-inkey", second.keyPath, "-certfile", ca.certPath]);
    const signature = readPkcs7Signature(pem.toString());
    const verified = verifySigners(signature, content, []);
    expect(verified.map((v) => v.embedded)).toEqual([true, true]);
    expect(decideTrust(verified, signature.embedded, trust(), { time: NOW, policy: PKG_INSTALL_POLICY }).trusted).toBe(true);
    expect(() => verifySigners(signature, Buffer.from("other"), [])).toThrowWithCode("PKG_BAD_SIGNATURE");
  });

  it.runIf(OPENSSL)("refuses the package if any one signer breaks pkg_install's rules", async () => {
    const noEku = await pki.signer(ca, "P7 No EKU", { extendedKeyUsage: null });
    const pem = openssl(["smime", "-sign", "-binary", "-noattr", "-outform", "PEM", "-signer", signer.certPath, "-inkey", signer.keyPath, "-signer", noEku.certPath, "-inkey", noEku.keyPath, "-certfile", ca.certPath]);
    const signature = readPkcs7Signature(pem.toString());
    const decision = decideTrust(verifySigners(signature, content, []), signature.embedded, trust(), { time: NOW, policy: PKG_INSTALL_POLICY });
    expect(decision).toMatchObject({ trusted: false, code: "CERT_NOT_PACKAGE_SIGNER" });
  });

  it.runIf(OPENSSL)("accepts a SHA-1 signature as pkg_install does, with a warning", () => {
    const pem = opensslSign(pki.dir, content, signer, { chain: [ca] });
    const sha1 = openssl(["smime", "-sign", "-binary", "-noattr", "-md", "sha1", "-outform", "PEM", "-signer", signer.certPath, "-inkey", signer.keyPath, "-certfile", ca.certPath]);
    for (const [bytes, weak] of [[pem, false], [sha1, true]] as const) {
      const signature = readPkcs7Signature(bytes.toString());
      const decision = decideTrust(verifySigners(signature, content, []), signature.embedded, trust(), { time: NOW, policy: PKG_INSTALL_POLICY });
      expect(decision.trusted).toBe(true);
      expect(decision.warnings.some((w) => /sha1/.test(w))).toBe(weak);
    }
  });

  it.runIf(OPENSSL)("refuses a signer named by subject key identifier, which pkg_install cannot parse", () => {
    const cms = openssl(["cms", "-sign", "-binary", "-noattr", "-keyid", "-outform", "PEM", "-signer", signer.certPath, "-inkey", signer.keyPath]).toString().replace(/CMS/g, "PKCS7");
    expect(() => readPkcs7Signature(cms)).toThrowWithCode("PKG_SIGNATURE_FORMAT");
  });

  it.runIf(OPENSSL)("checks a signature that embeds content against the detached content, as PKCS7_verify given indata does", () => {
    const attached = openssl(["smime", "-sign", "-binary", "-noattr", "-nodetach", "-outform", "PEM", "-signer", signer.certPath, "-inkey", signer.keyPath]);
    const signature = readPkcs7Signature(attached.toString());
    expect(verifySigners(signature, content, [])).toHaveLength(1);
    // The embedded copy is never what is checked: other detached content fails.
    expect(() => verifySigners(signature, Buffer.from("other content"), [])).toThrowWithCode("PKG_BAD_SIGNATURE");
  });

  it("refuses text that is not a PEM PKCS#7", () => {
    expect(() => readPkcs7Signature("hello")).toThrowWithCode("PKG_SIGNATURE_FORMAT");
    expect(() => readPkcs7Signature("-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n")).toThrowWithCode("PKG_SIGNATURE_FORMAT");
    expect(() => readPkcs7Signature(`-----BEGIN PKCS7-----\n${Buffer.from(signer.der).toString("base64")}\n-----END PKCS7-----\n`)).toThrowWithCode("PKG_SIGNATURE_FORMAT");
  });

  it("finds a signer missing from the signature only in the chain certificates", () => {
    const pem = opensslSign(pki.dir, content, signer, { chain: [ca], noSignerCert: true });
    const signature = readPkcs7Signature(pem.toString());
    expect(() => verifySigners(signature, content, [])).toThrowWithCode("PKG_SIGNER_NOT_FOUND");
    expect(verifySigners(signature, content, [signer.der])[0]?.embedded).toBe(false);
  });
});
