import type { BundleVerdict } from "../bundle/verify.js";
import type { TrustState } from "../config/state.js";
import { BootstrapError } from "./errors.js";

type TrustRecord = Pick<TrustState, "certificates" | "crlNumbers">;

function validCrls(verdict: BundleVerdict) {
  return verdict.crls.filter((entry) => entry.status === "valid").map((entry) => entry.crl);
}

/**
 * Refuses a bundle older than the one accepted before (TUF rollback attack): every issuer's
 * CRL number must not go down and its CRL must not disappear (that would un-revoke
 * certificates); no certificate older than one accepted for the same subject (the same
 * subject and key included) is taken, unless it was itself accepted before.
 */
export function checkNoRollback(previous: TrustState, verdict: BundleVerdict): void {
  const crls = validCrls(verdict);
  for (const [issuer, recorded] of Object.entries(previous.crlNumbers)) {
    const current = crls.filter((crl) => crl.issuer === issuer && crl.number !== undefined).map((crl) => crl.number as bigint);
    const highest = current.length === 0 ? undefined : current.reduce((a, b) => (a > b ? a : b));
    if (highest === undefined || highest < BigInt(recorded)) {
      throw new BootstrapError("BOOT_ROLLBACK", `the bundle's CRL of ${issuer} is ${highest === undefined ? "missing" : `number ${highest}`}, older than number ${recorded} accepted before`, {
        detail: { issuer, accepted: recorded, offered: highest === undefined ? null : highest.toString() },
      });
    }
  }
  // Every valid certificate counts, whatever else the bundle holds: an older one next to the
  // current one would otherwise land in the trust files beside it.
  const accepted = new Set(previous.certificates.map((record) => record.sha256));
  for (const { certificate, status } of verdict.certificates) {
    if (status !== "valid" || accepted.has(certificate.sha256)) continue;
    const newer = previous.certificates.find((record) => record.subject === certificate.subject && Date.parse(record.notBefore) > certificate.notBefore.getTime());
    if (newer) {
      throw new BootstrapError("BOOT_ROLLBACK", `the bundle offers a certificate for ${certificate.subject} older than the one accepted before (notBefore ${certificate.notBefore.toISOString()}, accepted ${newer.notBefore})`, {
        detail: { subject: certificate.subject, accepted: newer.sha256, offered: certificate.sha256 },
      });
    }
  }
}

/** What to remember of an accepted bundle; CRL numbers only ever go up. */
export function trustRecord(verdict: BundleVerdict, previous: TrustState | undefined): TrustRecord {
  const crlNumbers: Record<string, string> = { ...previous?.crlNumbers };
  for (const crl of validCrls(verdict)) {
    if (crl.number === undefined) continue;
    const known = crlNumbers[crl.issuer];
    if (known === undefined || BigInt(known) < crl.number) crlNumbers[crl.issuer] = crl.number.toString();
  }
  const seen = new Set<string>();
  const certificates = verdict.certificates
    .filter((entry) => entry.status === "valid" && !seen.has(entry.certificate.sha256) && seen.add(entry.certificate.sha256))
    .map(({ certificate, role }) => ({
      sha256: certificate.sha256,
      subject: certificate.subject,
      issuer: certificate.issuer,
      serialNumber: certificate.serialNumber,
      role,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
    }));
  return { certificates, crlNumbers };
}
