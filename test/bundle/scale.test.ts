import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle, verifyBundle } from "../../src/bundle/verify.js";
import { STRICT_POLICY } from "../../src/pki/path.js";
import { VerificationCache } from "../../src/pki/verification-cache.js";
import { largeBundle, NOW, TestPki, type Issued } from "../fixtures/pki.js";

// 500 certificates keep the suite fast on two cores; the benchmark runs largeBundle(pki, 10, 99).
const INTERMEDIATES = 10;
const SIGNERS_PER_CA = 49;

let pki: TestPki;
let root: Issued;
let pems: string[];

beforeAll(async () => {
  pki = await TestPki.create();
  ({ root, pems } = await largeBundle(pki, INTERMEDIATES, SIGNERS_PER_CA));
}, 300_000);
afterAll(() => pki.cleanup());

describe("a large bundle", () => {
  it("verifies every certificate with one signature check per issuer link", async () => {
    const bundle = readBundle(pems.join(""), "big.pem");
    const anchors = readBundle(root.certPem, "anchor.pem").certificates;
    const cache = new VerificationCache();
    const started = performance.now();
    const verdict = await verifyBundle(bundle, anchors, { time: NOW, policy: STRICT_POLICY, cache });
    const elapsed = performance.now() - started;
    const checks = cache.signatureChecks;
    expect(bundle.certificates).toHaveLength(INTERMEDIATES * (SIGNERS_PER_CA + 1));
    expect(verdict.valid).toBe(true);
    // Each signer has two same-name candidate CAs, one of which verifies: at most two checks each.
    expect(checks).toBeLessThanOrEqual(INTERMEDIATES + 2 * INTERMEDIATES * SIGNERS_PER_CA);
    console.log(`verified ${bundle.certificates.length} certificates in ${elapsed.toFixed(0)} ms, ${checks} signature checks, ${verdict.explored} search steps`);
  });
});
