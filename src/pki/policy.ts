import type { Certificate } from "./certificate.js";

/** What pkgtrust demands beyond OpenSSL's own checks. */
export interface Policy {
  /** Refuse MD5/SHA-1 signatures and RSA/DSA keys under 2048 bits. */
  readonly rejectWeakAlgorithms: boolean;
}

/** pkgtrust's default. */
export const STRICT_POLICY: Policy = Object.freeze({ rejectWeakAlgorithms: true });
/** What pkg_install itself enforces: its OpenSSL call accepts MD5/SHA-1 and short RSA keys. */
export const PKG_INSTALL_POLICY: Policy = Object.freeze({ rejectWeakAlgorithms: false });

export const MIN_RSA_BITS = 2048;

/** MD2, MD4, MD5 and SHA-1 based signature algorithms (collisions are practical: NIST SP 800-131A). */
const WEAK_SIGNATURES = new Set([
  "1.2.840.113549.1.1.2",
  "1.2.840.113549.1.1.3",
  "1.2.840.113549.1.1.4",
  "1.2.840.113549.1.1.5",
  "1.2.840.10045.4.1",
  "1.2.840.10040.4.3",
  "1.3.14.3.2.29",
]);

/**
 * Why a certificate falls below the policy, or undefined. The signature of the trust anchor
 * itself is not judged (it is trusted as a whole, as OpenSSL does), its key is.
 */
export function weakness(certificate: Certificate, isAnchor: boolean): string | undefined {
  if (!isAnchor && WEAK_SIGNATURES.has(certificate.signatureAlgorithm)) {
    return `is signed with ${certificate.signatureAlgorithmName}`;
  }
  const bits = certificate.publicKeyBits;
  if ((certificate.publicKeyType === "rsa" || certificate.publicKeyType === "dsa") && bits !== undefined && bits < MIN_RSA_BITS) {
    return `has a ${bits}-bit ${certificate.publicKeyType.toUpperCase()} key (minimum ${MIN_RSA_BITS})`;
  }
  return undefined;
}
