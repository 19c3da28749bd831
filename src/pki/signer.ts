import type { Certificate } from "./certificate.js";
import { CertificateError } from "./errors.js";

export const CODE_SIGNING = "1.3.6.1.5.5.7.3.3";
export const EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  [CODE_SIGNING]: "codeSigning",
  [EMAIL_PROTECTION]: "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

export function ekuName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

function problem(certificate: Certificate, message: string): CertificateError {
  return new CertificateError("CERT_NOT_PACKAGE_SIGNER", `"${certificate.subject}" ${message}`, {
    detail: { subject: certificate.subject, sha256: certificate.sha256 },
  });
}

/**
 * pkg_install's own signer rules (lib/pkcs7.c easy_pkcs7_verify, shared/domain.md section 2),
 * applied after OpenSSL accepted the chain: the signer must not be a CA (X509_check_ca) and
 * its extended key usage must be exactly codeSigning + emailProtection. pkg_install compares
 * OpenSSL's bit mask, which ignores OIDs OpenSSL does not know; pkgtrust refuses any extra.
 */
export function packageSignerProblem(certificate: Certificate): CertificateError | undefined {
  if (certificate.isCA) return problem(certificate, "is a CA; pkg_install refuses CA keys as package signers");
  const eku = certificate.extendedKeyUsage;
  if (!eku) return problem(certificate, "has no extended key usage; a package signer needs exactly codeSigning + emailProtection");
  const set = new Set(eku);
  if (set.size !== 2 || !set.has(CODE_SIGNING) || !set.has(EMAIL_PROTECTION)) {
    return problem(certificate, `has extended key usage ${eku.map(ekuName).join(", ")}; a package signer needs exactly codeSigning + emailProtection`);
  }
  return undefined;
}
