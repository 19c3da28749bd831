/**
 * Verifies every certificate of a repository key bundle against the base-system anchors:
 * each must be a CA usable on a package signer's path ("intermediate") or a certificate
 * pkg_install accepts as a package signer ("signing"); anything else is invalid ("other").
 */
import type { Certificate } from "../pki/certificate.js";
import type { Crl } from "../pki/crl.js";
import type { CertificateError } from "../pki/errors.js";
import { PathSearch, SearchBudget, type PathSearchLimits, type Policy } from "../pki/path.js";
import { packageSignerProblem } from "../pki/signer.js";
import type { VerificationCache } from "../pki/verification-cache.js";
import { checkCrl, issuerKey, type CrlVerdict } from "./crls.js";

export type { CrlVerdict } from "./crls.js";
export { readBundle, type Bundle } from "./read.js";

export type Role = "intermediate" | "signing" | "other";

export interface CertificateVerdict {
  readonly certificate: Certificate;
  readonly role: Role;
  readonly status: "valid" | "invalid";
  readonly code?: string;
  readonly reason: string;
  /** The trusted path (valid) or the best failed attempt (invalid), leaf first. */
  readonly path?: readonly Certificate[];
}

export interface BundleVerdict {
  readonly certificates: readonly CertificateVerdict[];
  readonly crls: readonly CrlVerdict[];
  /** Every certificate and every CRL is valid. */
  readonly valid: boolean;
  /** Path-search steps, for benchmarks. */
  readonly explored: number;
}

export interface VerifyOptions {
  readonly time: Date;
  readonly policy: Policy;
  /** The work allowed for the whole bundle (every path search and CRL issuer search); default PATH_SEARCH_LIMITS. */
  readonly limits?: PathSearchLimits;
  /** The run's memos; default: a new one for this bundle. */
  readonly cache?: VerificationCache;
}

export function roleOf(certificate: Certificate): Role {
  if (certificate.isCA) return "intermediate";
  return packageSignerProblem(certificate) ? "other" : "signing";
}

const describePath = (path: readonly Certificate[]) => path.map((c) => `"${c.subject}"`).join(" <- ");

function judge(certificate: Certificate, search: PathSearch) {
  const role = roleOf(certificate);
  const result = search.find(certificate);
  // A bundle that exhausts the search budget is refused as a whole, not certificate by certificate (fail closed).
  if (!result.ok && result.error.code === "CERT_SEARCH_LIMIT") throw result.error;
  let verdict: CertificateVerdict;
  if (role === "other") {
    // Neither a CA nor a signer pkg_install would accept (a TLS certificate, say): it has no business in a key bundle.
    const problem = packageSignerProblem(certificate) as CertificateError;
    verdict = { certificate, role, status: "invalid", code: problem.code, reason: `neither a CA nor a package signer: ${problem.message}`, path: result.path };
  } else if (role === "intermediate" && certificate.caLevel !== 1) {
    // check_chain_extensions: below the anchor, OpenSSL accepts only basicConstraints CA:TRUE.
    verdict = { certificate, role, status: "invalid", code: "CERT_ISSUER_NOT_CA", reason: `"${certificate.subject}" cannot serve as an intermediate CA: it has no basicConstraints CA:TRUE`, path: result.path };
  } else if (result.ok) {
    verdict = { certificate, role, status: "valid", reason: `trusted path ${describePath(result.path)} (anchor)`, path: result.path };
  } else {
    verdict = { certificate, role, status: "invalid", code: result.error.code, reason: result.error.message, path: result.path };
  }
  return { verdict, explored: result.explored };
}

/** A certificate given twice (same DER) is one issuer: each CRL's issuer search is bounded by the distinct CAs of its name. */
function uniqueCertificates(certificates: readonly Certificate[]): Certificate[] {
  const seen = new Set<string>();
  return certificates.filter((c) => !seen.has(c.sha256) && (seen.add(c.sha256), true));
}

/** Anchors usable as CRL issuers: self-signed and within their validity period. */
const usableAnchors = (anchors: readonly Certificate[], time: Date) =>
  anchors.filter((a) => a.selfSigned && a.notBefore.getTime() <= time.getTime() && time.getTime() <= a.notAfter.getTime());

export async function verifyBundle(bundle: { certificates: Certificate[]; crls: Crl[] }, anchors: readonly Certificate[], options: VerifyOptions): Promise<BundleVerdict> {
  const certificates = bundle.certificates;
  let explored = 0;
  const run = (search: PathSearch) =>
    certificates.map((certificate) => {
      const judged = judge(certificate, search);
      explored += judged.explored;
      return judged.verdict;
    });
  const budget = new SearchBudget(options.limits);
  const search = PathSearch.over({ untrusted: certificates, trusted: anchors, time: options.time, policy: options.policy, purpose: "smime-sign", budget, untrustedSource: "the bundle", ...(options.cache ? { cache: options.cache } : {}) });
  let verdicts = run(search);
  if (bundle.crls.length === 0) return { certificates: verdicts, crls: [], valid: verdicts.every((v) => v.status === "valid"), explored };

  // A CRL counts only when a CA whose own path is valid (or an anchor) signed it.
  const validIssuers = uniqueCertificates([...usableAnchors(anchors, options.time), ...verdicts.filter((v) => v.status === "valid" && v.role === "intermediate").map((v) => v.certificate)]);
  const crls: CrlVerdict[] = [];
  for (const crl of bundle.crls) crls.push(await checkCrl(crl, validIssuers, budget));

  const revokedBy = new Map<string, Set<string>>();
  for (const { crl, issuer } of crls) {
    if (!issuer) continue;
    const key = issuerKey(issuer);
    const serials = revokedBy.get(key) ?? new Set<string>();
    for (const serial of crl.revokedSerials) serials.add(serial);
    revokedBy.set(key, serials);
  }
  const keys = new WeakMap<Certificate, string>();
  const keyOf = (c: Certificate) => {
    let key = keys.get(c);
    if (key === undefined) keys.set(c, (key = issuerKey(c)));
    return key;
  };
  // RFC 5280 6.3.3: a certificate is revoked when its issuer's CRL lists its serial number.
  if (revokedBy.size > 0) verdicts = run(search.withRevocation((certificate, issuer) => revokedBy.get(keyOf(issuer))?.has(certificate.serialNumber) ?? false));

  // Fail closed: whatever a CRL that does not verify might revoke cannot be trusted.
  const broken = crls.filter((c) => c.status === "invalid");
  // The first unusable CRL (in bundle order) naming an issuer on the path; indexed, so that the work is linear in the bundle.
  const firstBroken = new Map<string, number>();
  broken.forEach((b, at) => firstBroken.has(b.crl.issuerName) || firstBroken.set(b.crl.issuerName, at));
  verdicts = verdicts.map((verdict) => {
    if (verdict.status !== "valid") return verdict;
    const at = Math.min(...(verdict.path ?? []).slice(0, -1).map((c) => firstBroken.get(c.issuerName) ?? Infinity));
    const hit = broken[at];
    return hit ? { ...verdict, status: "invalid", code: hit.code, reason: `the bundle's CRL for its issuer is unusable: ${hit.reason}` } : verdict;
  });
  return { certificates: verdicts, crls, valid: verdicts.every((v) => v.status === "valid") && broken.length === 0, explored };
}
