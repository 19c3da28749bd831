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
 * certificates); no certificate may be replaced by an older one of the same subject.
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
  const offered = verdict.certificates.filter((entry) => entry.status === "valid").map((entry) => entry.certificate);
  for (const accepted of previous.certificates) {
    if (offered.some((certificate) => certificate.sha256 === accepted.sha256)) continue;
    const older = offered.find((certificate) => certificate.subject === accepted.subject && certificate.notBefore.getTime() < Date.parse(accepted.notBefore));
    if (older) {
      throw new BootstrapError("BOOT_ROLLBACK", `the bundle offers an older certificate for ${accepted.subject} than the one accepted before`, {
        detail: { subject: accepted.subject, accepted: accepted.sha256, offered: older.sha256 },
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
  const certificates = verdict.certificates
    .filter((entry) => entry.status === "valid")
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
