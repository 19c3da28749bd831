/**
 * Certification path building the way OpenSSL 3.0's X509_verify_cert does it when
 * pkg_install calls PKCS7_verify (shared/domain.md section 2), plus pkgtrust's policy.
 * Unlike OpenSSL, which commits to one issuer per step, every candidate path is searched
 * (depth-first with backtracking), so a bad certificate sharing a good one's name cannot
 * hide the good path.
 */
import { keyIdentifiersMatch, NS_SMIME, NS_SMIME_CA, NS_SSL_CLIENT, signedBy, type Certificate } from "./certificate.js";
import { CertificateError, type CertificateErrorCode } from "./errors.js";
import { weakness, type Policy } from "./policy.js";

export { MIN_RSA_BITS, PKG_INSTALL_POLICY, STRICT_POLICY, type Policy } from "./policy.js";

/** Longest path searched, in certificates (leaf and anchor included). */
export const MAX_PATH_LENGTH = 10;

const EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

export interface PathRequest {
  readonly leaf: Certificate;
  /** May be used as intermediates. */
  readonly untrusted: readonly Certificate[];
  /** The anchor file; only a self-signed one ends a path. */
  readonly trusted: readonly Certificate[];
  readonly time: Date;
  readonly policy: Policy;
  readonly purpose: "smime-sign" | "any";
  /** Whether `certificate` is revoked by a verified CRL of `issuer` (see src/bundle). */
  readonly isRevoked?: (certificate: Certificate, issuer: Certificate) => boolean;
}

export type PathResult =
  | { ok: true; path: readonly Certificate[] /* leaf first, anchor last */; explored: number }
  | { ok: false; error: CertificateError; path?: readonly Certificate[] /* the best failed attempt */; explored: number };

interface CandidateIndex {
  readonly bySubject: ReadonlyMap<string, readonly Certificate[]>;
  readonly trusted: ReadonlySet<string>;
}

// Verifying a 1,000-certificate bundle asks for many paths over the same two lists: index once.
const indexCache = new WeakMap<readonly Certificate[], WeakMap<readonly Certificate[], CandidateIndex>>();

function candidateIndex(untrusted: readonly Certificate[], trusted: readonly Certificate[]): CandidateIndex {
  let inner = indexCache.get(untrusted);
  if (!inner) indexCache.set(untrusted, (inner = new WeakMap()));
  let index = inner.get(trusted);
  if (index) return index;
  const bySubject = new Map<string, Certificate[]>();
  const seen = new Map<string, Certificate>();
  // OpenSSL looks in the trust store first, then the untrusted certificates.
  for (const certificate of [...trusted, ...untrusted]) {
    if (seen.has(certificate.sha256)) continue;
    seen.set(certificate.sha256, certificate);
    const list = bySubject.get(certificate.subjectName) ?? [];
    list.push(certificate);
    bySubject.set(certificate.subjectName, list);
  }
  index = { bySubject, trusted: new Set(trusted.map((c) => c.sha256)) };
  inner.set(trusted, index);
  return index;
}

function fail(code: CertificateErrorCode, certificate: Certificate, message: string, depth: number): CertificateError {
  return new CertificateError(code, `"${certificate.subject}" ${message}`, {
    detail: { subject: certificate.subject, sha256: certificate.sha256, depth },
  });
}

const within = (c: Certificate, t: Date) => c.notBefore.getTime() <= t.getTime() && t.getTime() <= c.notAfter.getTime();

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

/**
 * Checks a complete path (leaf first, self-signed trusted anchor last) in OpenSSL's order:
 * check_chain_extensions (critical extensions, CA flags, purpose, path length) for every
 * certificate, then internal_verify from the anchor down (signature, validity time), then
 * revocation and pkgtrust's algorithm policy.
 */
function pathProblem(path: readonly Certificate[], request: PathRequest): CertificateError | undefined {
  const last = path.length - 1;
  let intermediatesBelow = 0; // OpenSSL's plen: non-self-issued intermediates below the current certificate
  for (let i = 0; i <= last; i++) {
    const cert = path[i] as Certificate;
    // RFC 5280 4.2: a critical extension the verifier does not process makes the certificate invalid.
    if (cert.unknownCriticalExtensions.length > 0) {
      return fail("CERT_UNKNOWN_CRITICAL_EXTENSION", cert, `has an unknown critical extension ${cert.unknownCriticalExtensions.join(", ")}`, i);
    }
    // check_chain_extensions: intermediates must have basicConstraints CA:TRUE (X509_check_ca == 1,
    // X509_STRICT implicit for them); the trust anchor may be any kind of CA (v1 root, keyUsage only).
    if (i > 0) {
      const ok = i < last ? cert.caLevel === 1 : cert.caLevel !== 0;
      if (!ok) {
        const why = cert.keyUsage && !cert.keyUsage.includes("keyCertSign") ? "has a key usage without keyCertSign" : "is not a CA (basicConstraints)";
        return fail("CERT_ISSUER_NOT_CA", cert, `${why} but issues "${(path[i - 1] as Certificate).subject}"`, i);
      }
    }
    if (request.purpose === "smime-sign") {
      const problem = smimePurposeProblem(cert, i);
      if (problem) return fail("CERT_WRONG_PURPOSE", cert, problem, i);
    }
    // RFC 5280 4.2.1.9 / OpenSSL: at most pathLength non-self-issued intermediates below a CA.
    const pathLength = cert.basicConstraints?.ca ? cert.basicConstraints.pathLength : undefined;
    if (i > 1 && pathLength !== undefined && intermediatesBelow > pathLength) {
      return fail("CERT_PATH_LENGTH", cert, `allows ${pathLength} intermediate CA(s) below it, the path has ${intermediatesBelow}`, i);
    }
    if (i > 0 && !cert.selfIssued) intermediatesBelow++;
  }
  for (let i = last; i >= 0; i--) {
    const cert = path[i] as Certificate;
    const issuer = path[Math.min(i + 1, last)] as Certificate;
    if (i < last && !signedBy(cert, issuer)) return fail("CERT_BAD_SIGNATURE", cert, `has a signature that does not verify with the key of "${issuer.subject}"`, i);
    // RFC 5280 4.1.2.5: the validity period includes both bounds.
    if (request.time.getTime() < cert.notBefore.getTime()) return fail("CERT_NOT_YET_VALID", cert, `is not valid before ${cert.notBefore.toISOString()}`, i);
    if (request.time.getTime() > cert.notAfter.getTime()) return fail("CERT_EXPIRED", cert, `expired at ${cert.notAfter.toISOString()}`, i);
  }
  if (request.isRevoked) {
    for (let i = last - 1; i >= 0; i--) {
      const cert = path[i] as Certificate;
      if (request.isRevoked(cert, path[i + 1] as Certificate)) return fail("CERT_REVOKED", cert, `is revoked by a CRL of "${(path[i + 1] as Certificate).subject}"`, i);
    }
  }
  if (request.policy.rejectWeakAlgorithms) {
    for (let i = last; i >= 0; i--) {
      const cert = path[i] as Certificate;
      const why = weakness(cert, i === last);
      if (why) return fail("CERT_WEAK_ALGORITHM", cert, `${why}, below pkgtrust's policy (pkg_install would accept it)`, i);
    }
  }
  return undefined;
}

interface Attempt {
  readonly error: CertificateError;
  readonly path: readonly Certificate[];
  /** How far the attempt got: a full path to an anchor > an untrusted root > a bad signature > no issuer. */
  readonly rank: number;
}

const better = (a: Attempt, b: Attempt | undefined) =>
  !b || a.rank > b.rank || (a.rank === b.rank && a.path.length > b.path.length);

export function findTrustedPath(request: PathRequest): PathResult {
  const index = candidateIndex(request.untrusted, request.trusted);
  const path: Certificate[] = [request.leaf];
  let best: Attempt | undefined;
  let explored = 0;
  const record = (rank: number, error: CertificateError, attempt: readonly Certificate[] = path) => {
    const candidate = { rank, error, path: [...attempt] };
    if (better(candidate, best)) best = candidate;
  };

  const search = (): readonly Certificate[] | undefined => {
    explored++;
    const top = path[path.length - 1] as Certificate;
    const depth = path.length - 1;
    if (top.selfSigned) {
      // Only a self-signed certificate byte-equal to one in the anchor file ends a path;
      // no partial chains (pkg_install does not set X509_V_FLAG_PARTIAL_CHAIN).
      if (!index.trusted.has(top.sha256)) {
        record(2, fail("CERT_UNTRUSTED_ROOT", top, "is a self-signed root that is not in the anchor file", depth));
        return undefined;
      }
      const problem = pathProblem(path, request);
      if (!problem) return [...path];
      record(3, problem);
      return undefined;
    }
    // X509_check_issued: issuer name equal to the subject name, key identifiers compatible.
    const candidates = (index.bySubject.get(top.issuerName) ?? []).filter((c) => !path.includes(c) && keyIdentifiersMatch(top, c));
    if (candidates.length === 0) {
      record(0, fail("CERT_NO_ISSUER", top, `has no issuer "${top.issuer}" in the bundle or the anchor file`, depth));
      return undefined;
    }
    if (path.length >= MAX_PATH_LENGTH) {
      record(0, fail("CERT_PATH_TOO_LONG", top, `is ${MAX_PATH_LENGTH} certificates from the leaf; pkgtrust searches no further`, depth));
      return undefined;
    }
    // Like OpenSSL's get_issuer, try issuers valid at the verification time first.
    candidates.sort((a, b) => Number(within(b, request.time)) - Number(within(a, request.time)));
    for (const issuer of candidates) {
      if (!signedBy(top, issuer)) {
        record(1, fail("CERT_BAD_SIGNATURE", top, `has a signature that does not verify with the key of "${issuer.subject}"`, depth), [...path, issuer]);
        continue;
      }
      path.push(issuer);
      const found = search();
      path.pop();
      if (found) return found;
    }
    return undefined;
  };

  const found = search();
  if (found) return { ok: true, path: found, explored };
  const attempt = best as Attempt; // search() records a failure on every unsuccessful branch
  return { ok: false, error: attempt.error, path: attempt.path, explored };
}
