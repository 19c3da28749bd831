import { createHash } from "node:crypto";
import { issuerKey } from "../bundle/crls.js";
import { verifyBundle, type BundleVerdict, type Role } from "../bundle/verify.js";
import type { Certificate } from "../pki/certificate.js";
import type { Crl } from "../pki/crl.js";
import type { Policy } from "../pki/policy.js";
import { pemBlock } from "./pem-block.js";

export interface Dropped {
  readonly kind: "certificate" | "crl";
  /** The certificate's subject, or the CRL's issuer. */
  readonly subject: string;
  readonly sha256: string;
  readonly source?: string;
  readonly code: string;
  readonly reason: string;
}

export interface KeptCertificate {
  readonly certificate: Certificate;
  readonly role: Role;
  /** Certificates between it and the anchor, plus one: 1 for what the anchor issued. */
  readonly depth: number;
}

export interface BuiltBundle {
  readonly certificates: readonly KeptCertificate[];
  readonly crls: readonly Crl[];
  readonly dropped: readonly Dropped[];
  /** CRLs past their nextUpdate: kept (dropping one would un-revoke), but refresh refuses them. */
  readonly staleCrls: readonly Crl[];
  /** At least one signing certificate verifies: clients can use the bundle. */
  readonly usable: boolean;
  readonly pem: string;
}

const crlSha256 = (crl: Crl) => createHash("sha256").update(crl.der).digest("hex");

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => (seen.has(key(item)) ? false : (seen.add(key(item)), true)));
}

const droppedCertificate = (certificate: Certificate, code: string, reason: string): Dropped => ({
  kind: "certificate",
  subject: certificate.subject,
  sha256: certificate.sha256,
  ...(certificate.source === undefined ? {} : { source: certificate.source }),
  code,
  reason,
});

const droppedCrl = (crl: Crl, code: string, reason: string): Dropped => ({
  kind: "crl",
  subject: crl.issuer,
  sha256: crlSha256(crl),
  ...(crl.source === undefined ? {} : { source: crl.source }),
  code,
  reason,
});

/** Of the valid CRLs of one issuer (name and key), only the newest: highest cRLNumber, then latest thisUpdate. */
function newestPerIssuer(verdict: BundleVerdict): { kept: Crl[]; superseded: Crl[] } {
  const newest = new Map<string, Crl>();
  const superseded: Crl[] = [];
  const newer = (a: Crl, b: Crl) => ((a.number ?? -1n) !== (b.number ?? -1n) ? (a.number ?? -1n) > (b.number ?? -1n) : a.thisUpdate.getTime() > b.thisUpdate.getTime());
  for (const { crl, issuer, status } of verdict.crls) {
    if (status !== "valid" || !issuer) continue;
    const key = issuerKey(issuer);
    const current = newest.get(key);
    if (!current) newest.set(key, crl);
    else if (newer(crl, current)) {
      superseded.push(current);
      newest.set(key, crl);
    } else superseded.push(crl);
  }
  return { kept: [...newest.values()], superseded };
}

/**
 * Builds pkg_keys.pem from the operator's certificates and CRLs: only what verifies against
 * the anchor the way clients verify it (verifyBundle, the same code setup and refresh run),
 * never the anchor itself (clients have it in the base system), one newest CRL per issuer.
 * Dropping one certificate can break another's path or a CRL's issuer, so verification is
 * repeated on what is kept until everything kept verifies.
 */
export async function buildBundle(input: { certificates: readonly Certificate[]; crls: readonly Crl[] }, anchors: readonly Certificate[], options: { time: Date; policy: Policy }): Promise<BuiltBundle> {
  const dropped: Dropped[] = [];
  const anchorPrints = new Set(anchors.map((a) => a.sha256));
  let certificates = uniqueBy(input.certificates, (c) => c.sha256).filter((certificate) => {
    if (!anchorPrints.has(certificate.sha256)) return true;
    dropped.push(droppedCertificate(certificate, "BUNDLE_IS_ANCHOR", "the anchor itself: clients already have it in the base system"));
    return false;
  });
  let crls = uniqueBy(input.crls, crlSha256);

  let verdict = await verifyBundle({ certificates, crls }, anchors, options);
  for (const entry of verdict.certificates) if (entry.status === "invalid") dropped.push(droppedCertificate(entry.certificate, entry.code ?? "CERT_INVALID", entry.reason));
  for (const entry of verdict.crls) if (entry.status === "invalid") dropped.push(droppedCrl(entry.crl, entry.code ?? "CRL_INVALID", entry.reason));
  const { kept, superseded } = newestPerIssuer(verdict);
  for (const crl of superseded) dropped.push(droppedCrl(crl, "BUNDLE_CRL_SUPERSEDED", `a newer CRL of ${crl.issuer} is in the inputs`));
  certificates = verdict.certificates.filter((v) => v.status === "valid").map((v) => v.certificate);
  crls = kept;

  // Fixpoint: each round only removes, so it ends within one round per input.
  for (;;) {
    verdict = await verifyBundle({ certificates, crls }, anchors, options);
    const badCertificates = verdict.certificates.filter((v) => v.status === "invalid");
    const badCrls = verdict.crls.filter((v) => v.status === "invalid");
    if (badCertificates.length === 0 && badCrls.length === 0) break;
    for (const entry of badCertificates) dropped.push(droppedCertificate(entry.certificate, entry.code ?? "CERT_INVALID", `once invalid inputs were left out: ${entry.reason}`));
    for (const entry of badCrls) dropped.push(droppedCrl(entry.crl, entry.code ?? "CRL_INVALID", `once invalid inputs were left out: ${entry.reason}`));
    certificates = verdict.certificates.filter((v) => v.status === "valid").map((v) => v.certificate);
    crls = verdict.crls.filter((v) => v.status === "valid").map((v) => v.crl);
  }

  // Issuers before what they issue: by depth below the anchor, then subject, then fingerprint (stable across runs).
  const ordered = verdict.certificates.map((v) => ({ certificate: v.certificate, role: v.role, depth: (v.path?.length ?? 2) - 1 }));
  ordered.sort((a, b) => a.depth - b.depth || compare(a.certificate.subject, b.certificate.subject) || compare(a.certificate.sha256, b.certificate.sha256));
  const depthOf = new Map<string, number>(ordered.map((k) => [issuerKey(k.certificate), k.depth]));
  const orderedCrls = verdict.crls.map((v) => ({ crl: v.crl, depth: v.issuer ? (depthOf.get(issuerKey(v.issuer)) ?? 0) : 0 }));
  orderedCrls.sort((a, b) => a.depth - b.depth || compare(a.crl.issuer, b.crl.issuer) || compare(crlSha256(a.crl), crlSha256(b.crl)));

  const pem = [...ordered.map((k) => pemBlock("CERTIFICATE", k.certificate.der)), ...orderedCrls.map((c) => pemBlock("X509 CRL", c.crl.der))].join("");
  return {
    certificates: ordered,
    crls: orderedCrls.map((c) => c.crl),
    dropped,
    staleCrls: orderedCrls.map((c) => c.crl).filter((crl) => crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < options.time.getTime()),
    usable: ordered.some((k) => k.role === "signing"),
    pem,
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
