/**
 * The checks OpenSSL 3.0's X509_verify_cert runs on a built chain (shared/domain.md section 2),
 * plus pkgtrust's policy, split per certificate and per issuer link: the verdict on a
 * complete path (pathProblem) and the path search's bound on what a partial path can still
 * become (src/pki/path.ts) use the same rules.
 */
import { NS_SMIME, NS_SMIME_CA, NS_SSL_CLIENT, signedBy, type Certificate } from "./certificate.js";
import { nameConstraintsViolation } from "./name-constraints.js";
import type { VerificationCache } from "./verification-cache.js";
import { CertificateError, type CertificateErrorCode } from "./errors.js";
import { weakness, type Policy } from "./policy.js";

const EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

/** What a path is judged against, apart from its certificates. */
export interface PathContext {
  readonly time: Date;
  readonly policy: Policy;
  readonly purpose: "smime-sign" | "any";
  /** Whether `certificate` is revoked by a verified CRL of `issuer` (see src/bundle). */
  readonly isRevoked?: (certificate: Certificate, issuer: Certificate) => boolean;
  /** The run's memos (signature verdicts); a search without one makes its own. */
  readonly cache?: VerificationCache;
  /** Validity bounds: both inclusive (RFC 5280, the default), or as OpenSSL 3.0 compares them for pkg_install's verdict. */
  readonly validity?: "rfc5280" | "openssl";
}

/** Where a certificate stands on a path: index i (0 the leaf), whether it is the last (the anchor), and OpenSSL's plen. */
export interface Position {
  readonly index: number;
  readonly last: boolean;
  /** Non-self-issued intermediates below it (path indices 1 .. index-1). */
  readonly below: number;
}

export interface Problem {
  readonly code: CertificateErrorCode;
  readonly message: string;
}

export function fail(code: CertificateErrorCode, certificate: Certificate, message: string, depth: number): CertificateError {
  return new CertificateError(code, `"${certificate.subject}" ${message}`, {
    detail: { subject: certificate.subject, sha256: certificate.sha256, depth },
  });
}

export const within = (c: Certificate, t: Date) => c.notBefore.getTime() <= t.getTime() && t.getTime() <= c.notAfter.getTime();

/** OpenSSL's smime_sign purpose (v3_purp.c check_purpose_smime_sign / purpose_smime). */
function smimePurposeProblem(certificate: Certificate, depth: number): string | undefined {
  const asCA = depth > 0 || certificate.isCA;
  const eku = certificate.extendedKeyUsage;
  // xku_reject(x, XKU_SMIME): an EKU, when present, must list emailProtection - for CAs too.
  if (eku && !eku.includes(EMAIL_PROTECTION)) return "has an extended key usage without emailProtection (S/MIME signing purpose)";
  const ns = certificate.netscapeCertType;
  if (asCA) {
    // purpose_smime: an issuer that is a CA by its Netscape cert type alone (X509_check_ca 5) needs
    // the S/MIME CA bit; otherwise X509_check_ca decides, judged by the CA rule. (A CA as the leaf
    // is judged as a CA here, for bundles; as a package signer pkg_install then refuses it.)
    if (depth > 0 && certificate.caLevel === 5 && ((ns ?? 0) & NS_SMIME_CA) === 0) return "is a CA only by a Netscape cert type without S/MIME CA (S/MIME signing purpose)";
    return undefined;
  }
  // purpose_smime: a Netscape cert type, when present, must allow S/MIME (or SSL client, OpenSSL's workaround).
  if (ns !== undefined && (ns & (NS_SMIME | NS_SSL_CLIENT)) === 0) return "has a Netscape cert type without S/MIME (S/MIME signing purpose)";
  // ku_reject(x, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)
  const ku = certificate.keyUsage;
  if (ku && !ku.includes("digitalSignature") && !ku.includes("nonRepudiation")) {
    return "has a key usage without digitalSignature or nonRepudiation (S/MIME signing purpose)";
  }
  return undefined;
}

/** check_chain_extensions for one certificate: critical extensions, CA flags, purpose, path length. `child` is what it issues on the path. */
export function extensionProblem(cert: Certificate, at: Position, context: PathContext, child?: Certificate): Problem | undefined {
  // OpenSSL 3.0's EXFLAG_INVALID: an extension it decodes, present twice (RFC 5280 4.2).
  if (cert.duplicatedExtensions.length > 0) {
    return { code: "CERT_INVALID_EXTENSION", message: `has the extension ${cert.duplicatedExtensions.join(", ")} more than once` };
  }
  // RFC 5280 4.2: a critical extension the verifier does not process makes the certificate invalid.
  if (cert.unknownCriticalExtensions.length > 0) {
    return { code: "CERT_UNKNOWN_CRITICAL_EXTENSION", message: `has an unknown critical extension ${cert.unknownCriticalExtensions.join(", ")}` };
  }
  // check_chain_extensions: intermediates must have basicConstraints CA:TRUE (X509_check_ca == 1,
  // X509_STRICT implicit for them); the trust anchor may be any kind of CA (v1 root, keyUsage only).
  if (at.index > 0) {
    const ok = at.last ? cert.caLevel !== 0 : cert.caLevel === 1;
    if (!ok) {
      const why = cert.keyUsage && !cert.keyUsage.includes("keyCertSign") ? "has a key usage without keyCertSign" : "is not a CA (basicConstraints)";
      return { code: "CERT_ISSUER_NOT_CA", message: `${why} but issues "${child?.subject ?? "?"}"` };
    }
  }
  if (context.purpose === "smime-sign") {
    const problem = smimePurposeProblem(cert, at.index);
    if (problem) return { code: "CERT_WRONG_PURPOSE", message: problem };
  }
  // RFC 5280 4.2.1.9 / OpenSSL: at most pathLength non-self-issued intermediates below a CA.
  const pathLength = cert.basicConstraints?.ca ? cert.basicConstraints.pathLength : undefined;
  if (at.index > 1 && pathLength !== undefined && at.below > pathLength) {
    return { code: "CERT_PATH_LENGTH", message: `allows ${pathLength} intermediate CA(s) below it, the path has ${at.below}` };
  }
  return undefined;
}

/**
 * RFC 5280 4.1.2.5: the validity period includes both bounds. OpenSSL 3.0's
 * ossl_x509_check_cert_time (X509_cmp_time counts "equal" as "earlier") refuses the second of notAfter.
 */
export function timeProblem(cert: Certificate, time: Date, validity: PathContext["validity"] = "rfc5280"): Problem | undefined {
  if (time.getTime() < cert.notBefore.getTime()) return { code: "CERT_NOT_YET_VALID", message: `is not valid before ${cert.notBefore.toISOString()}` };
  const late = validity === "openssl" ? time.getTime() >= cert.notAfter.getTime() : time.getTime() > cert.notAfter.getTime();
  if (late) return { code: "CERT_EXPIRED", message: `expired at ${cert.notAfter.toISOString()}` };
  return undefined;
}

function weakProblem(cert: Certificate, last: boolean, policy: Policy): Problem | undefined {
  const why = policy.rejectWeakAlgorithms ? weakness(cert, last) : undefined;
  return why ? { code: "CERT_WEAK_ALGORITHM", message: `${why}, below pkgtrust's policy (pkg_install would accept it)` } : undefined;
}

/** Whether the certificate passes every check of its own at this position (its issuer link aside). */
export function certificatePasses(cert: Certificate, at: Position, context: PathContext): boolean {
  return !extensionProblem(cert, at, context) && !timeProblem(cert, context.time, context.validity) && !weakProblem(cert, at.last, context.policy);
}

/** Whether the link child <- issuer is revoked (RFC 5280 6.3.3, by the bundle's verified CRLs). */
export const revoked = (child: Certificate, issuer: Certificate, context: PathContext) => context.isRevoked?.(child, issuer) ?? false;

/**
 * Checks a complete path (leaf first, self-signed trusted anchor last) in OpenSSL's order:
 * check_chain_extensions (critical extensions, CA flags, purpose, path length) for every
 * certificate, then internal_verify from the anchor down (signature, validity time), then
 * revocation and pkgtrust's algorithm policy.
 */
export function pathProblem(path: readonly Certificate[], context: PathContext): CertificateError | undefined {
  const last = path.length - 1;
  let below = 0; // OpenSSL's plen: non-self-issued intermediates below the current certificate
  for (let i = 0; i <= last; i++) {
    const cert = path[i] as Certificate;
    const problem = extensionProblem(cert, { index: i, last: i === last, below }, context, path[i - 1]);
    if (problem) return fail(problem.code, cert, problem.message, i);
    if (i > 0 && !cert.selfIssued) below++;
  }
  for (let i = last; i >= 0; i--) {
    const cert = path[i] as Certificate;
    const issuer = path[Math.min(i + 1, last)] as Certificate;
    if (i < last && !signedBy(cert, issuer, context.cache)) return fail("CERT_BAD_SIGNATURE", cert, `has a signature that does not verify with the key of "${issuer.subject}"`, i);
    const problem = timeProblem(cert, context.time, context.validity);
    if (problem) return fail(problem.code, cert, problem.message, i);
  }
  // check_name_constraints, after internal_verify.
  const outside = nameConstraintsViolation(path);
  if (outside) return fail("CERT_NAME_CONSTRAINTS", path[outside.index] as Certificate, outside.message, outside.index);
  for (let i = last - 1; i >= 0; i--) {
    const cert = path[i] as Certificate;
    if (revoked(cert, path[i + 1] as Certificate, context)) return fail("CERT_REVOKED", cert, `is revoked by a CRL of "${(path[i + 1] as Certificate).subject}"`, i);
  }
  for (let i = last; i >= 0; i--) {
    const cert = path[i] as Certificate;
    const problem = weakProblem(cert, i === last, context.policy);
    if (problem) return fail(problem.code, cert, problem.message, i);
  }
  return undefined;
}
