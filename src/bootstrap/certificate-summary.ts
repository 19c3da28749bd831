import type { CertificateVerdict } from "../bundle/verify.js";
import type { CertificateSummary } from "./events.js";

const DAY_MS = 86_400_000;

/** Whole days from `now` until `date`; negative once it has passed. */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / DAY_MS);
}

/**
 * What a revocation does and does not do, in one line where the user decides. pkgtrust
 * leaves a revoked certificate out of the trust files (plan.ts writes only valid ones), but
 * pkg_install consults no CRL (domain.md section 2) and takes signers, and the CAs the
 * signature carries, from the signature itself: a package whose signature carries the
 * revoked certificate still installs under the written configuration.
 */
export function revocationNote(entry: Pick<CertificateVerdict, "code" | "role">): string | undefined {
  if (entry.code !== "CERT_REVOKED") return undefined;
  const which = entry.role === "signing" ? "packages signed with it (the signature carries it)" : "packages whose signatures carry this CA's certificate";
  return `Revoked: pkgtrust leaves it out of the trust files, but pkg_install consults no CRL: after Accept it still installs ${which}.`;
}

/** The review line of one bundle certificate, shared by every reporter and the TUI. */
export function summarise(entry: CertificateVerdict, now: Date): CertificateSummary {
  const { certificate } = entry;
  const note = revocationNote(entry);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    sha256: certificate.sha256,
    role: entry.role,
    status: entry.status,
    ...(entry.code === undefined ? {} : { code: entry.code }),
    reason: entry.reason,
    ...(note === undefined ? {} : { note }),
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    daysLeft: daysUntil(certificate.notAfter, now),
  };
}
