import { type Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import type { Crl } from "../pki/crl.js";
import { CertificateError } from "../pki/errors.js";
import type { VerificationCache } from "../pki/verification-cache.js";
import { DEFAULT_LIMITS } from "../limits.js";
import { BundleError } from "./errors.js";

/**
 * Certificates and CRLs in one bundle or anchor file. Real bundles hold a few dozen; the
 * path search is bounded per certificate, so the count bounds the whole verification
 * (TUF endless-data attack; the benchmark's largest bundle has 1011).
 */
export const MAX_BUNDLE_BLOCKS = DEFAULT_LIMITS.bundleBlocks;

export interface Bundle {
  readonly certificates: Certificate[];
  readonly crls: Crl[];
}

/**
 * Reads a key bundle (pkg_keys.pem) or an anchor file: CERTIFICATE and X509 CRL blocks only.
 * Anything else, or a file without a single certificate, is malformed input.
 */
export function readBundle(text: string, source: string, cache?: VerificationCache): Bundle {
  // Counted before any block is decoded or parsed.
  let blocks = 0;
  for (let at = text.indexOf("-----BEGIN "); at !== -1; at = text.indexOf("-----BEGIN ", at + 1)) {
    if (++blocks > MAX_BUNDLE_BLOCKS) {
      throw new BundleError("BUNDLE_TOO_MANY_CERTIFICATES", `${source}: more than ${MAX_BUNDLE_BLOCKS} certificates and CRLs`, { detail: { source, max: MAX_BUNDLE_BLOCKS } });
    }
  }
  const bundle = readCertificateFile(text, source, cache);
  if (bundle.certificates.length === 0) {
    throw new CertificateError("PEM_EMPTY", `${source}: holds no certificate`, { detail: { source, line: 1 } });
  }
  return bundle;
}
