import { readCertificateFile, type Certificate } from "../pki/certificate.js";
import type { Crl } from "../pki/crl.js";
import { CertificateError } from "../pki/errors.js";

export interface Bundle {
  readonly certificates: Certificate[];
  readonly crls: Crl[];
}

/**
 * Reads a key bundle (pkg_keys.pem) or an anchor file: CERTIFICATE and X509 CRL blocks only.
 * Anything else, or a file without a single certificate, is malformed input.
 */
export function readBundle(text: string, source: string): Bundle {
  const bundle = readCertificateFile(text, source);
  if (bundle.certificates.length === 0) {
    throw new CertificateError("PEM_EMPTY", `${source}: holds no certificate`, { detail: { source, line: 1 } });
  }
  return bundle;
}
