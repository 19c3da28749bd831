import { createHash } from "node:crypto";
import type { Certificate } from "../pki/certificate.js";
import { crlSignedBy, type Crl } from "../pki/crl.js";
import { CertificateError } from "../pki/errors.js";
import type { SearchBudget } from "../pki/search-budget.js";

export interface CrlVerdict {
  readonly crl: Crl;
  readonly status: "valid" | "invalid";
  readonly code?: CertificateError["code"];
  readonly reason: string;
  /** The certificate whose key verified the CRL. */
  readonly issuer?: Certificate;
}

/** Issuer identity for revocation: name and public key, so that a renewed CA keeps its CRL. */
export function issuerKey(certificate: Certificate): string {
  const spki = certificate.openssl.publicKey.export({ type: "spki", format: "der" });
  return `${certificate.subjectName}:${createHash("sha256").update(spki).digest("hex")}`;
}

function invalid(crl: Crl, code: CertificateError["code"], reason: string): CrlVerdict {
  return { crl, status: "invalid", code, reason };
}

/**
 * Verifies one CRL against the issuers already found valid (bundle CAs with a trusted path,
 * and the anchors). RFC 5280 6.3.3: the CRL issuer's name must match, its key must verify the
 * CRL, and its keyUsage, when present, must allow cRLSign. A CRL that does not verify is an
 * error, never ignored: it may be hiding a revocation. The signature checks count against the
 * bundle's search budget.
 */
export async function checkCrl(crl: Crl, validIssuers: readonly Certificate[], budget: SearchBudget): Promise<CrlVerdict> {
  const named = validIssuers.filter(
    (c) => c.subjectName === crl.issuerName && (!crl.authorityKeyId || !c.subjectKeyId || crl.authorityKeyId === c.subjectKeyId),
  );
  if (named.length === 0) return invalid(crl, "CRL_NO_ISSUER", `CRL of "${crl.issuer}" has no valid issuer in the bundle or the anchor file`);
  for (const issuer of named) {
    budget.spend("signatures");
    if (!(await crlSignedBy(crl, issuer))) continue;
    if (issuer.keyUsage && !issuer.keyUsage.includes("cRLSign")) {
      return invalid(crl, "CRL_ISSUER_NOT_CRL_SIGNER", `CRL of "${crl.issuer}" is signed by a CA whose keyUsage lacks cRLSign`);
    }
    const count = crl.revokedSerials.size;
    return { crl, status: "valid", reason: `verified by "${issuer.subject}", revokes ${count} certificate${count === 1 ? "" : "s"}`, issuer };
  }
  return invalid(crl, "CRL_BAD_SIGNATURE", `CRL of "${crl.issuer}" does not verify with the key of any valid "${crl.issuer}"`);
}
