import { createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle, verifyBundle } from "../../src/bundle/verify.js";
import { signDetached } from "../../src/keys/pkcs7-sign.js";
import { PackageCache } from "../../src/package/package-cache.js";
import { readPkcs7Signature, verifySigners } from "../../src/package/pkcs7-signature.js";
import { parseCertificate, signedBy } from "../../src/pki/certificate.js";
import { STRICT_POLICY } from "../../src/pki/path.js";
import { VerificationCache } from "../../src/pki/verification-cache.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Cache Root");
  ca = await pki.intermediate(root, "Cache CA");
  signer = await pki.signer(ca, "Cache Signer");
});
afterAll(async () => pki?.cleanup());

describe("the verification cache of a run", () => {
  it("is shared by nothing but the runs it is passed to: a second run checks every signature again", async () => {
    const bundle = () => readBundle(ca.certPem + signer.certPem, "bundle.pem");
    const anchors = readBundle(root.certPem, "anchor.pem").certificates;
    const first = new VerificationCache();
    expect((await verifyBundle(bundle(), anchors, { time: NOW, policy: STRICT_POLICY, cache: first })).valid).toBe(true);
    expect(first.signatureChecks).toBeGreaterThan(0);
    const second = new VerificationCache();
    await verifyBundle(bundle(), anchors, { time: NOW, policy: STRICT_POLICY, cache: second });
    expect(second.signatureChecks).toBe(first.signatureChecks);
    const checked = first.signatureChecks;
    await verifyBundle(bundle(), anchors, { time: NOW, policy: STRICT_POLICY, cache: first });
    expect(first.signatureChecks).toBe(checked);
  });

  it("keeps at most its size of each memo, oldest out first", () => {
    const cache = new VerificationCache({ certificates: 1, names: 1, signatures: 1 });
    const [child, issuer, other] = [signer, ca, root].map((c) => parseCertificate(c.der, c.name, undefined, cache)) as [ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>];
    expect(signedBy(child, issuer, cache)).toBe(true);
    expect(signedBy(child, issuer, cache)).toBe(true);
    expect(cache.signatureChecks).toBe(1);
    expect(signedBy(child, other, cache)).toBe(false);
    expect(signedBy(child, issuer, cache)).toBe(true);
    expect(cache.signatureChecks).toBe(3);
    expect(parseCertificate(signer.der, signer.name, undefined, cache)).not.toBe(child);
  });

  it("parses a certificate once per run, whichever file it is read from, and keeps where each copy was read", () => {
    const cache = new VerificationCache();
    const fromBundle = readBundle(ca.certPem + signer.certPem, "bundle.pem", cache).certificates;
    const fromChain = readBundle(signer.certPem, "chain.pem", cache).certificates;
    expect(fromChain[0]?.openssl).toBe(fromBundle[1]?.openssl);
    expect([fromChain[0]?.source, fromChain[0]?.line, fromBundle[1]?.source, fromBundle[1]?.line]).toEqual(["chain.pem", 1, "bundle.pem", 12]);
    const copy = fromChain[0] as ReturnType<typeof parseCertificate>;
    expect({ ...copy, openssl: undefined }).toEqual({ ...parseCertificate(signer.der, "chain.pem", 1), openssl: undefined });
    expect(Object.isFrozen(copy)).toBe(true);
  });

  it("holds the PKCS#7 reader's parses per run, not per process", () => {
    const content = Buffer.from("pkgsrc signature\n");
    const text = signDetached(content, { key: createPrivateKey(signer.keyPem), certificate: signer.der, chain: [ca.der] });
    const run = new PackageCache();
    expect(readPkcs7Signature(text, run)).toBe(readPkcs7Signature(text, run));
    expect(readPkcs7Signature(text, new PackageCache())).not.toBe(readPkcs7Signature(text, run));
    expect(verifySigners(readPkcs7Signature(text, run), content, [], run)).toEqual(verifySigners(readPkcs7Signature(text), content, []));
  });
});
