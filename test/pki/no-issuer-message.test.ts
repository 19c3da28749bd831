import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/bundle/verify.js";
import { parseCertificate } from "../../src/pki/certificate.js";
import { findTrustedPath, STRICT_POLICY } from "../../src/pki/path.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { standardPki } from "../fixtures/repository.js";

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
});
afterAll(async () => {
  await pki?.cleanup();
});
const model = (issued: { der: Uint8Array; name: string }) => parseCertificate(issued.der, issued.name);

describe("a missing issuer, as the message names it", () => {
  it("a look-alike root's CA: the anchor file has the issuer's name with another key, and the message says so", () => {
    const result = findTrustedPath({ leaf: model(trust.rogueCa), untrusted: [], trusted: [model(trust.root)], time: NOW, policy: STRICT_POLICY, purpose: "any", untrustedSource: "the bundle" });
    expect(!result.ok && result.error.code).toBe("CERT_NO_ISSUER");
    expect(!result.ok && result.error.message).toContain('names its issuer "CN=pkgsrc CA", and the anchor file holds a certificate of that name, but the names match and the keys do not');
  });

  it("a package check speaks of the signature, never of a bundle", () => {
    const result = findTrustedPath({ leaf: model(trust.build), untrusted: [], trusted: [model(trust.root)], time: NOW, policy: STRICT_POLICY, purpose: "smime-sign", untrustedSource: "the signature or CERTIFICATE_CHAIN" });
    expect(!result.ok && result.error.message).toContain('has no issuer "CN=pkgsrc developer CA" in the signature or CERTIFICATE_CHAIN or the anchor file');
    expect(!result.ok && result.error.message).not.toContain("bundle");
  });

  it("verifyBundle names the bundle", async () => {
    const verdict = await verifyBundle({ certificates: [model(trust.build)], crls: [] }, [model(trust.root)], { time: NOW, policy: STRICT_POLICY });
    expect(verdict.certificates[0]?.reason).toContain('has no issuer "CN=pkgsrc developer CA" in the bundle or the anchor file');
  });
});
