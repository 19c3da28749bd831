import { BoundedMemo } from "../bounded-memo.js";
import type { Certificate } from "./certificate.js";

/** How many entries each memo of a VerificationCache keeps (oldest out first). */
export interface VerificationCacheSizes {
  /** Parsed certificates: a repository's packages embed the same few. */
  readonly certificates: number;
  /** Canonical name keys by DER Name: a bundle names a few issuers many times. */
  readonly names: number;
  /** Signature verdicts by (certificate, issuer): above PATH_SEARCH_LIMITS.maxSignatureChecks, so a bundle's search never checks twice. */
  readonly signatures: number;
}

export const VERIFICATION_CACHE_SIZES: VerificationCacheSizes = Object.freeze({ certificates: 256, names: 4096, signatures: 32_768 });

/**
 * The memos of one run (a command, one wizard attempt, a test): created by the caller and
 * passed in, so that two runs in one process never share state. Every memo is bounded and
 * holds only values computed from the bytes of its key, so a hit returns what a fresh
 * computation would.
 */
export class VerificationCache {
  readonly certificates: BoundedMemo<Certificate>;
  readonly names: BoundedMemo<string>;
  private readonly signatures: BoundedMemo<boolean>;
  private checks = 0;

  constructor(sizes: VerificationCacheSizes = VERIFICATION_CACHE_SIZES) {
    this.certificates = new BoundedMemo(sizes.certificates);
    this.names = new BoundedMemo(sizes.names);
    this.signatures = new BoundedMemo(sizes.signatures);
  }

  /** Whether `issuer`'s key verifies `child`'s signature, checked at most once per pair of DERs. */
  signedBy(child: Certificate, issuer: Certificate, verify: () => boolean): boolean {
    return this.signatures.get(`${child.sha256}:${issuer.sha256}`, () => {
      this.checks++;
      return verify();
    });
  }

  /** Signature verifications this cache has done (the scale test and the benchmark read it). */
  get signatureChecks(): number {
    return this.checks;
  }
}
