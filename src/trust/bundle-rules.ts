import { chainsToForeignRoot } from "../bundle/foreign-root.js";
import type { BundleVerdict } from "../bundle/verify.js";
import type { Crl } from "../pki/crl.js";
import type { Anchor } from "./anchor.js";
import { DEFAULT_LIMITS } from "../limits.js";
import { TrustError } from "./errors.js";

/** Key bundles are small; anything larger is refused unread (TUF endless-data attack). */
export const MAX_BUNDLE_BYTES = DEFAULT_LIMITS.bundleBytes;

/**
 * The rules a client applies to a verified bundle as a whole, shared by setup, refresh and
 * `bundle lint`: one certificate from another root distrusts the whole repository, and a
 * bundle without a valid build certificate cannot verify any package.
 */
export function requireUsableBundle(verdict: BundleVerdict, anchor: Pick<Anchor, "path" | "roots">): void {
  const foreign = verdict.certificates.find((entry) => chainsToForeignRoot(entry, anchor.roots));
  if (foreign) {
    throw new TrustError("BOOT_FOREIGN_ROOT", `${foreign.certificate.subject} in the key bundle chains to a root that is not in ${anchor.path}`, {
      detail: { subject: foreign.certificate.subject, sha256: foreign.certificate.sha256 },
    });
  }
  if (!verdict.certificates.some((entry) => entry.status === "valid" && entry.role === "signing")) {
    throw new TrustError("BOOT_NO_SIGNING_CERT", `the key bundle holds no valid build certificate that chains to ${anchor.path}`, {
      detail: { anchor: anchor.path },
    });
  }
}

/**
 * How far a CRL's thisUpdate may lie ahead of this system's clock: a CA's clock and a fresh
 * install's differ by a little, not by more (docs/bundle-format.md).
 */
export const CRL_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface CrlWindowProblem {
  readonly crl: Crl;
  readonly code: "BOOT_STALE_CRL" | "BOOT_CRL_NOT_YET_VALID";
  readonly message: string;
}

/**
 * The verified CRLs outside their time window. RFC 5280 6.3.3 (a)(2): a CRL past its
 * nextUpdate is no longer current (and a mirror serving it is the TUF indefinite-freeze
 * attack); one whose thisUpdate is ahead of the clock by more than CRL_CLOCK_SKEW_MS was
 * issued in the future, so either the clock or the CA is wrong.
 */
export function crlWindowProblems(verdict: BundleVerdict, now: Date): CrlWindowProblem[] {
  const problems: CrlWindowProblem[] = [];
  for (const { crl, status } of verdict.crls) {
    if (status !== "valid") continue;
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
      problems.push({ crl, code: "BOOT_STALE_CRL", message: `the CRL of ${crl.issuer} expired on ${crl.nextUpdate.toISOString()}` });
    } else if (crl.thisUpdate.getTime() > now.getTime() + CRL_CLOCK_SKEW_MS) {
      problems.push({ crl, code: "BOOT_CRL_NOT_YET_VALID", message: `the CRL of ${crl.issuer} was issued on ${crl.thisUpdate.toISOString()}, after this system's time ${now.toISOString()}` });
    }
  }
  return problems;
}

/** Setup and refresh refuse a bundle with a CRL outside its time window. */
export function requireCurrentCrls(verdict: BundleVerdict, now: Date): void {
  const [problem] = crlWindowProblems(verdict, now);
  if (!problem) return;
  const { crl } = problem;
  throw new TrustError(problem.code, problem.message, {
    detail: { issuer: crl.issuer, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null },
  });
}
