import { X509Certificate as OpenSslCertificate, createHash } from "node:crypto";
import { AsnConvert, BitString } from "@peculiar/asn1-schema";
import { Certificate as AsnCertificate, Version } from "@peculiar/asn1-x509";
import { comparableSerial } from "./serial.js";
import { CertificateError } from "./errors.js";
import { certificateNameKeys } from "./name.js";
import type { VerificationCache } from "./verification-cache.js";
import * as x509 from "./x509.js";

export interface Certificate {
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER: the fingerprint. */
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  /** Lowercase hex without leading zeros. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** OpenSSL 3.0's EXFLAG_SS: self-issued, its AKID matching itself, a signature algorithm of its own key type (the signature itself is not checked). */
  readonly selfSigned: boolean;
  /** X509_check_ca semantics: caLevel is not 0. */
  readonly isCA: boolean;
  /** The value OpenSSL's X509_check_ca returns: 0 not a CA, 1 basicConstraints CA:TRUE, 3 v1 root, 4 keyUsage only, 5 Netscape CA cert type. */
  readonly caLevel: CaLevel;
  /** The first byte of the Netscape cert type extension (2.16.840.1.113730.1.1), as OpenSSL keeps it (ex_nscert). */
  readonly netscapeCertType?: number;
  readonly basicConstraints?: { ca: boolean; pathLength?: number };
  /** e.g. "digitalSignature", "keyCertSign". */
  readonly keyUsage?: readonly string[];
  /** OIDs. */
  readonly extendedKeyUsage?: readonly string[];
  /** Hex of the canonical subject and issuer Names (src/pki/name.ts, OpenSSL's X509_NAME_cmp): the keys of issuer look-up. */
  readonly subjectName: string;
  readonly issuerName: string;
  readonly selfIssued: boolean;
  readonly subjectKeyId?: string;
  readonly authorityKeyId?: { keyId?: string; serialNumber?: string };
  /** The signature algorithm OID, and a readable name for messages. */
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmName: string;
  readonly publicKeyType: string;
  /** RSA/DSA modulus size; undefined for EC keys. */
  readonly publicKeyBits?: number;
  /** OIDs of critical extensions that neither pkgtrust nor OpenSSL's verifier process here. */
  readonly unknownCriticalExtensions: readonly string[];
  /** OIDs of extensions present more than once that OpenSSL decodes, which makes it an invalid certificate (EXFLAG_INVALID). */
  readonly duplicatedExtensions: readonly string[];
  /** Whether it carries nameConstraints, which bind the certificates below it (name-constraints.ts). */
  readonly hasNameConstraints: boolean;
  /** The same certificate in node:crypto (OpenSSL) form, used for signature checks. */
  readonly openssl: OpenSslCertificate;
  readonly source?: string;
  readonly line?: number;
}

export type CaLevel = 0 | 1 | 3 | 4 | 5;

/** Netscape cert type bits (OpenSSL's NS_* in x509v3.h). */
export const NS_SSL_CLIENT = 0x80;
export const NS_SMIME = 0x20;
export const NS_SSL_CA = 0x04;
export const NS_SMIME_CA = 0x02;
export const NS_OBJSIGN_CA = 0x01;
const NETSCAPE_CERT_TYPE = "2.16.840.1.113730.1.1";

const SIGNATURE_NAMES: Record<string, string> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.3": "md4WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.2.840.10040.4.3": "dsa-with-SHA1",
  "1.3.101.112": "Ed25519",
};

const NAME_CONSTRAINTS = "2.5.29.30";

/**
 * Extensions that may be critical: OpenSSL 3.0's X509_supported_extension list (v3_purp.c),
 * so that a critical one outside it is refused as OpenSSL refuses it (RFC 5280 4.2), the key
 * identifiers included. pkgtrust processes basicConstraints, keyUsage, extKeyUsage, the
 * Netscape cert type and nameConstraints (name-constraints.ts); SAN, certificatePolicies,
 * cRLDistributionPoints and OCSP no-check need no processing here (no explicit policy, no
 * CRLs in pkg_install). Of OpenSSL's list, the policy constraints and mappings, RFC 3779
 * resources and proxyCertInfo are not enforced by pkgtrust, so a critical one is still
 * refused (fail closed).
 */
const KNOWN_CRITICAL = new Set(["2.5.29.15", "2.5.29.17", "2.5.29.19", NAME_CONSTRAINTS, "2.5.29.31", "2.5.29.32", "2.5.29.37", "1.3.6.1.5.5.7.48.1.5", NETSCAPE_CERT_TYPE]);

/**
 * The extensions ossl_x509v3_cache_extensions (OpenSSL 3.0 v3_purp.c) decodes with
 * X509_get_ext_d2i(x, nid, &i, NULL): found twice, it sets EXFLAG_INVALID, and such a
 * certificate can neither issue nor be issued (ossl_x509_likely_issued fails), so no chain
 * through it verifies. RFC 5280 4.2: a certificate must not include an extension twice.
 */
const DECODED_ONCE = new Set(["2.5.29.19", "1.3.6.1.5.5.7.1.14", "2.5.29.15", "2.5.29.37", NETSCAPE_CERT_TYPE, "2.5.29.14", "2.5.29.35", "2.5.29.17", NAME_CONSTRAINTS, "2.5.29.31", "1.3.6.1.5.5.7.1.7", "1.3.6.1.5.5.7.1.8"]);

function duplicatesOf(types: readonly string[]): string[] {
  return [...new Set(types.filter((type, i) => DECODED_ONCE.has(type) && types.indexOf(type) !== i))];
}

const KEY_USAGE_NAMES = Object.entries(x509.KeyUsageFlags).filter((e): e is [string, number] => typeof e[1] === "number");

/**
 * X509_check_ca (OpenSSL 3.0 crypto/x509/v3_purp.c check_ca), branch by branch in its order:
 * a keyUsage without keyCertSign is no CA; with basicConstraints only CA:TRUE is one (even
 * keyCertSign with CA:FALSE is not); without it, a self-signed v1 certificate (3), then any
 * keyUsage (which has keyCertSign by now, 4), then a Netscape cert type with a CA bit (5).
 */
function checkCa(bc: Certificate["basicConstraints"], keyUsage: readonly string[] | undefined, v1Root: boolean, netscapeCertType: number | undefined): CaLevel {
  if (keyUsage && !keyUsage.includes("keyCertSign")) return 0;
  if (bc) return bc.ca ? 1 : 0;
  if (v1Root) return 3;
  if (keyUsage) return 4;
  if (netscapeCertType !== undefined && (netscapeCertType & (NS_SSL_CA | NS_SMIME_CA | NS_OBJSIGN_CA)) !== 0) return 5;
  return 0;
}

/** ex_nscert: the first byte of the BIT STRING (0 when it is empty). */
function netscapeCertTypeOf(extension: x509.Extension | undefined): number | undefined {
  if (!extension) return undefined;
  return new Uint8Array(AsnConvert.parse(extension.value, BitString).value)[0] ?? 0;
}

/** OpenSSL 3.0's check_sig_alg_match: the signature algorithm is one for a key of this type (the issuer's, or its own for EXFLAG_SS). */
export function signatureFitsKey(signatureAlgorithm: string, publicKeyType: string): boolean {
  const family = SIGNATURE_NAMES[signatureAlgorithm] ?? "";
  if (publicKeyType === "rsa" || publicKeyType === "rsa-pss") return /RSA/i.test(family);
  if (publicKeyType === "ec") return family.startsWith("ecdsa");
  if (publicKeyType === "dsa") return family.startsWith("dsa");
  return family.toLowerCase() === publicKeyType.toLowerCase();
}

/** Whether `issuer`'s key verifies `child`'s signature (memoised in `cache`: path search asks repeatedly). */
export function signedBy(child: Certificate, issuer: Certificate, cache?: VerificationCache): boolean {
  const verify = () => verifiesWith(child.openssl, issuer.openssl);
  return cache ? cache.signedBy(child, issuer, verify) : verify();
}

/**
 * X509_check_akid: the child's authority key identifier, when present, must match the
 * issuer's subject key identifier (and serial, when given) - RFC 5280 4.2.1.1.
 */
export function keyIdentifiersMatch(child: Certificate, issuer: Certificate): boolean {
  const akid = child.authorityKeyId;
  if (!akid) return true;
  if (akid.keyId && issuer.subjectKeyId && akid.keyId !== issuer.subjectKeyId) return false;
  if (akid.serialNumber && akid.serialNumber !== issuer.serialNumber) return false;
  return true;
}

function verifiesWith(child: OpenSslCertificate, issuer: OpenSslCertificate): boolean {
  try {
    return child.verify(issuer.publicKey);
  } catch {
    return false; // the key type does not fit the signature algorithm
  }
}

function badDer(source: string, line: number | undefined, what: string, cause: unknown): never {
  const where = line === undefined ? source : `${source}:${line}`;
  throw new CertificateError("PEM_BAD_DER", `${where}: not a valid ${what}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    detail: { source, line: line ?? null },
  });
}

/**
 * Parses a DER certificate. With a cache, by DER (and source): a repository's thousands of
 * packages embed the same few certificates, and an ASN.1 parse costs milliseconds.
 * Certificates are frozen values, so sharing one within a run is safe.
 */
export function parseCertificate(der: Uint8Array, source = "certificate", line?: number, cache?: VerificationCache): Certificate {
  if (!cache) return parseUncached(der, source, line, undefined);
  // By the DER alone: a run meets the same certificate in several files (setup: the anchor,
  // the bundle, the trust files it writes, the package's signature). Only where it was read differs.
  const parsed = cache.certificates.get(createHash("sha256").update(der).digest("hex"), () => parseUncached(der, source, line, cache));
  return parsed.source === source && parsed.line === line ? parsed : Object.freeze({ ...parsed, source, line });
}

function parseUncached(der: Uint8Array, source: string, line: number | undefined, cache: VerificationCache | undefined): Certificate {
  let asn: AsnCertificate;
  let cert: x509.X509Certificate;
  let openssl: OpenSslCertificate;
  try {
    openssl = new OpenSslCertificate(der);
    asn = AsnConvert.parse(der, AsnCertificate);
    cert = new x509.X509Certificate(asn); // one ASN.1 parse for both views
  } catch (error) {
    badDer(source, line, "certificate", error);
  }
  try {
    const tbs = asn.tbsCertificate;
    const extensions = cert.extensions; // decoded once: the getter builds new objects on every call
    const find = <T extends x509.Extension>(type: abstract new (...args: never[]) => T) => extensions.find((e): e is T => e instanceof type);
    const bcExt = find(x509.BasicConstraintsExtension);
    const kuExt = find(x509.KeyUsagesExtension);
    const ekuExt = find(x509.ExtendedKeyUsageExtension);
    const skiExt = find(x509.SubjectKeyIdentifierExtension);
    const akiExt = find(x509.AuthorityKeyIdentifierExtension);
    const basicConstraints = bcExt ? { ca: bcExt.ca, ...(bcExt.pathLength === undefined ? {} : { pathLength: bcExt.pathLength }) } : undefined;
    const keyUsage = kuExt ? KEY_USAGE_NAMES.filter(([, flag]) => (kuExt.usages & flag) !== 0).map(([name]) => name) : undefined;
    const extendedKeyUsage = ekuExt ? ekuExt.usages.map(String) : undefined;
    if (!asn.tbsCertificateRaw) throw new Error("no TBSCertificate");
    const { subject: subjectName, issuer: issuerName } = certificateNameKeys(asn.tbsCertificateRaw, cache);
    // The getter builds a new KeyObject on every call, and key details are costly: ask once, and only RSA/DSA have a size to check.
    const publicKey = openssl.publicKey;
    const publicKeyType = publicKey.asymmetricKeyType ?? "unknown";
    const publicKeyBits = publicKeyType === "rsa" || publicKeyType === "dsa" || publicKeyType === "rsa-pss" ? publicKey.asymmetricKeyDetails?.modulusLength : undefined;
    const signatureAlgorithm = asn.signatureAlgorithm.algorithm;
    const partial = {
      der,
      sha256: createHash("sha256").update(der).digest("hex"),
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: comparableSerial(cert.serialNumber),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      basicConstraints,
      keyUsage,
      extendedKeyUsage,
      subjectName,
      issuerName,
      selfIssued: subjectName === issuerName,
      subjectKeyId: skiExt?.keyId.toLowerCase(),
      authorityKeyId: akiExt
        ? { keyId: akiExt.keyId?.toLowerCase(), serialNumber: akiExt.certId ? comparableSerial(akiExt.certId.serialNumber) : undefined }
        : undefined,
      signatureAlgorithm,
      signatureAlgorithmName: SIGNATURE_NAMES[signatureAlgorithm] ?? signatureAlgorithm,
      publicKeyType,
      publicKeyBits,
      unknownCriticalExtensions: extensions.filter((e) => e.critical && !KNOWN_CRITICAL.has(e.type)).map((e) => e.type),
      duplicatedExtensions: duplicatesOf(extensions.map((e) => e.type)),
      hasNameConstraints: extensions.some((e) => e.type === NAME_CONSTRAINTS),
      openssl,
      source,
      line,
    };
    // OpenSSL 3.0's EXFLAG_SS (v3_purp.c ossl_x509v3_cache_extensions): self-issued, an AKID
    // matching itself, a signature algorithm fitting its own key; no signature check. It is what
    // ends a chain and makes an anchor trusted (trust_compat), and internal_verify skips the
    // self-signature without X509_V_FLAG_CHECK_SS_SIGNATURE, so an anchor is trusted as a whole.
    const self = partial as unknown as Certificate;
    const selfSigned = partial.selfIssued && keyIdentifiersMatch(self, self) && signatureFitsKey(signatureAlgorithm, publicKeyType);
    const netscapeCertType = netscapeCertTypeOf(extensions.find((e) => e.type === NETSCAPE_CERT_TYPE));
    const caLevel = checkCa(basicConstraints, keyUsage, selfSigned && tbs.version === Version.v1, netscapeCertType);
    return Object.freeze({ ...partial, selfSigned, caLevel, isCA: caLevel !== 0, ...(netscapeCertType === undefined ? {} : { netscapeCertType }) });
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    badDer(source, line, "certificate", error);
  }
}
