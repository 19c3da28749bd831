import type { Certificate } from "./certificate.js";
import { CertificateError } from "./errors.js";

export const CODE_SIGNING = "1.3.6.1.5.5.7.3.3";
export const EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

/**
 * The extended key usages OpenSSL 3.0 knows, with their bit in X509_get_extended_key_usage()
 * (crypto/x509/v3_purp.c ossl_x509v3_cache_extensions, XKU_* in x509v3.h). Any other OID
 * sets no bit.
 */
const KNOWN_EKUS: Readonly<Record<string, { readonly name: string; readonly bit: number }>> = {
  "1.3.6.1.5.5.7.3.1": { name: "serverAuth", bit: 0x1 },
  "1.3.6.1.5.5.7.3.2": { name: "clientAuth", bit: 0x2 },
  [EMAIL_PROTECTION]: { name: "emailProtection", bit: 0x4 },
  [CODE_SIGNING]: { name: "codeSigning", bit: 0x8 },
  "1.3.6.1.4.1.311.10.3.3": { name: "msSGC", bit: 0x10 },
  "2.16.840.1.113730.4.1": { name: "nsSGC", bit: 0x10 },
  "1.3.6.1.5.5.7.3.9": { name: "OCSPSigning", bit: 0x20 },
  "1.3.6.1.5.5.7.3.8": { name: "timeStamping", bit: 0x40 },
  "1.3.6.1.5.5.7.3.10": { name: "DVCS", bit: 0x80 },
  "2.5.29.37.0": { name: "anyExtendedKeyUsage", bit: 0x100 },
};

/** pkg_install's pkg_key_usage (lib/pkcs7.c): XKU_CODE_SIGN | XKU_SMIME. */
const PKG_KEY_USAGE = 0x8 | 0x4;
/** What X509_get_extended_key_usage() returns for a certificate without the extension. */
const ALL_USAGES = 0xffffffff;

export function ekuName(oid: string): string {
  return KNOWN_EKUS[oid]?.name ?? oid;
}

/** X509_get_extended_key_usage(): the OR of the known purposes' bits, all bits without an EKU. */
export function extendedKeyUsageBits(certificate: Certificate): number {
  const eku = certificate.extendedKeyUsage;
  if (!eku) return ALL_USAGES;
  return eku.reduce((bits, oid) => bits | (KNOWN_EKUS[oid]?.bit ?? 0), 0);
}

/** The signer's EKU OIDs that OpenSSL does not know, and so pkg_install ignores. */
export function unknownExtendedKeyUsages(certificate: Certificate): readonly string[] {
  return (certificate.extendedKeyUsage ?? []).filter((oid) => KNOWN_EKUS[oid] === undefined);
}

function problem(certificate: Certificate, message: string): CertificateError {
  return new CertificateError("CERT_NOT_PACKAGE_SIGNER", `"${certificate.subject}" ${message}`, {
    detail: { subject: certificate.subject, sha256: certificate.sha256 },
  });
}

/**
 * pkg_install's own signer rules (lib/pkcs7.c easy_pkcs7_verify and easy_pkcs7_sign,
 * shared/domain.md section 2), applied after OpenSSL accepted the chain: the signer must not
 * be a CA (X509_check_ca, certificate.ts) and X509_get_extended_key_usage() must equal
 * codeSigning | emailProtection exactly, so an OID OpenSSL does not know is no obstacle.
 * pkgtrust applies the same rule to bundles and to its own signer: refusing what
 * pkg_install accepts would only break repositories; an unknown OID is reported as a
 * warning instead (signerNotes).
 */
export function packageSignerProblem(certificate: Certificate): CertificateError | undefined {
  if (certificate.isCA) return problem(certificate, "is a CA; pkg_install refuses CA keys as package signers");
  const eku = certificate.extendedKeyUsage;
  if (!eku) return problem(certificate, "has no extended key usage; a package signer needs exactly codeSigning + emailProtection");
  if (extendedKeyUsageBits(certificate) !== PKG_KEY_USAGE) {
    return problem(certificate, `has extended key usage ${eku.map(ekuName).join(", ")}; a package signer needs exactly codeSigning + emailProtection`);
  }
  return undefined;
}

/** Notes about a signer pkg_install accepts: extended key usages it ignores. */
export function signerNotes(certificate: Certificate): readonly string[] {
  const unknown = unknownExtendedKeyUsages(certificate);
  if (unknown.length === 0) return [];
  return [`"${certificate.subject}" also has extended key usage ${unknown.join(", ")}, which OpenSSL does not know: pkg_install ignores it and accepts the signer`];
}
