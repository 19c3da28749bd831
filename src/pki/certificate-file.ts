import { parseCertificate, type Certificate } from "./certificate.js";
import { parseCrl, type Crl } from "./crl.js";
import { readPem } from "./pem.js";
import type { VerificationCache } from "./verification-cache.js";

/**
 * Reads the text of a PEM file of CERTIFICATE and X509 CRL blocks (a key bundle or an anchor
 * file). Parsing only: reading the file is src/trust/'s job (or the operator tools' inputs).
 * Kept apart from certificate.ts so that the certificate model and the CRL model do not import
 * each other.
 */
export function readCertificateFile(text: string, source: string, cache?: VerificationCache): { certificates: Certificate[]; crls: Crl[] } {
  const certificates: Certificate[] = [];
  const crls: Crl[] = [];
  for (const block of readPem(text, { source, labels: ["CERTIFICATE", "X509 CRL"] })) {
    if (block.label === "CERTIFICATE") certificates.push(parseCertificate(block.der, source, block.line, cache));
    else crls.push(parseCrl(block.der, source, block.line));
  }
  return { certificates, crls };
}
