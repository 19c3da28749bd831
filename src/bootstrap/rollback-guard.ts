import type { BundleVerdict } from "../bundle/verify.js";
import { crlIssuerKey, type TrustState } from "../config/state.js";
import type { Crl } from "../pki/crl.js";
import { InternalError } from "../errors.js";
import { BootstrapError } from "./errors.js";

type TrustRecord = Pick<TrustState, "certificates" | "crls">;

function validCrls(verdict: BundleVerdict) {
  return verdict.crls.filter((entry) => entry.status === "valid").map((entry) => entry.crl);
}

const keyOf = (crl: Crl) => crlIssuerKey(crl.issuerName);

/**
 * Each recorded CRL number with the bundle's CRLs of that issuer: by the issuer's canonical
 * Name, and for numbers read from a version 1 state by the display string it was keyed by.
 */
function recordedNumbers(previous: TrustState, crls: readonly Crl[]) {
  return [...Object.entries(previous.crls).map(([key, { issuer, number }]) => ({ issuer, number, current: crls.filter((crl) => keyOf(crl) === key) })), ...legacyNumbers(previous, crls)];
}

function legacyNumbers(previous: TrustState, crls: readonly Crl[]) {
  return Object.entries(previous.legacyCrlNumbers ?? {}).map(([issuer, number]) => ({ issuer, number, current: crls.filter((crl) => crl.issuer === issuer) }));
}

/**
 * Refuses a bundle older than the one accepted before (TUF rollback attack): every issuer's
 * CRL number must not go down and its CRL must not disappear (that would un-revoke
 * certificates); no certificate older than one accepted for the same subject (the same
 * subject and key included) is taken, unless it was itself accepted before.
 */
export function checkNoRollback(previous: TrustState, verdict: BundleVerdict): void {
  const crls = validCrls(verdict);
  for (const { issuer, number: recorded, current: ofIssuer } of recordedNumbers(previous, crls)) {
    const current = ofIssuer.flatMap((crl) => (crl.number === undefined ? [] : [crl.number]));
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

/**
 * What to remember of an accepted bundle; CRL numbers only ever go up. A version 1 number
 * moves to the key of the CRLs it bound (checkNoRollback found one for each).
 */
export function trustRecord(verdict: BundleVerdict, previous: TrustState | undefined): TrustRecord {
  const crls: Record<string, { issuer: string; number: string }> = { ...previous?.crls };
  const raise = (key: string, issuer: string, number: bigint) => {
    const known = crls[key];
    if (known === undefined || BigInt(known.number) < number) crls[key] = { issuer, number: number.toString() };
  };
  const valid = validCrls(verdict);
  for (const { issuer, number, current } of previous ? legacyNumbers(previous, valid) : []) {
    // Fail closed: a number with no CRL to carry it would be forgotten (checkNoRollback refuses that bundle).
    if (current.length === 0) throw new InternalError("INTERNAL", `the version 1 CRL number of ${issuer} has no CRL in the accepted bundle`);
    for (const crl of current) raise(keyOf(crl), issuer, BigInt(number));
  }
  for (const crl of valid) if (crl.number !== undefined) raise(keyOf(crl), crl.issuer, crl.number);
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
  return { certificates, crls };
}
