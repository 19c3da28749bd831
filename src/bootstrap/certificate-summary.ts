import type { CertificateVerdict } from "../bundle/verify.js";
import type { CertificateSummary } from "./events.js";

const DAY_MS = 86_400_000;

/** Whole days from `now` until `date`; negative once it has passed. */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / DAY_MS);
}

/** The review line of one bundle certificate, shared by every reporter and the TUI. */
export function summarise(entry: CertificateVerdict, now: Date): CertificateSummary {
  const { certificate } = entry;
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    sha256: certificate.sha256,
    role: entry.role,
    status: entry.status,
    ...(entry.code === undefined ? {} : { code: entry.code }),
    reason: entry.reason,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    daysLeft: daysUntil(certificate.notAfter, now),
  };
}
