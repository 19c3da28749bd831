import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BUNDLE_BLOCKS, readBundle } from "../../src/bundle/read.js";
import { TestPki, type Issued } from "../fixtures/pki.js";

let pki: TestPki;
let root: Issued;

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Limits Root");
});
afterAll(async () => {
  await pki?.cleanup();
});

describe("the certificate-count limit of a key bundle", () => {
  it("reads a bundle of exactly the limit", () => {
    expect(readBundle(root.certPem.repeat(MAX_BUNDLE_BLOCKS), "full.pem").certificates).toHaveLength(MAX_BUNDLE_BLOCKS);
  });

  it("refuses one block more with its own code, before parsing any", () => {
    expect(() => readBundle(root.certPem.repeat(MAX_BUNDLE_BLOCKS + 1), "over.pem")).toThrowWithCode("BUNDLE_TOO_MANY_CERTIFICATES");
    // A million empty blocks: refused by counting, not by decoding them one by one.
    const flood = "-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n".repeat(1_000_000);
    const start = performance.now();
    expect(() => readBundle(flood, "flood.pem")).toThrowWithCode("BUNDLE_TOO_MANY_CERTIFICATES");
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
