import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateList, CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import type { Certificate } from "./certificate.js";
import { CertificateError } from "./errors.js";
import { crlIssuerKey } from "./name.js";
import { comparableSerial } from "./serial.js";
import * as x509 from "./x509.js";

export interface Crl {
  readonly der: Uint8Array;
  readonly issuer: string;
  /** Hex of the canonical issuer Name (src/pki/name.ts), comparable with Certificate.subjectName. */
  readonly issuerName: string;
  /** The cRLNumber extension (RFC 5280 5.2.3); later used against rollback. */
  readonly number?: bigint;
  readonly thisUpdate: Date;
  /** Later used against freeze attacks. */
  readonly nextUpdate?: Date;
  /** Revoked serial numbers, lowercase hex without leading zeros. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly authorityKeyId?: string;
  readonly source?: string;
  readonly line?: number;
  readonly parsed: x509.X509Crl;
}

export function parseCrl(der: Uint8Array, source = "crl", line?: number): Crl {
  try {
    const asn = AsnConvert.parse(der, CertificateList);
    const parsed = new x509.X509Crl(der);
    const numberExt = parsed.extensions.find((e) => e.type === id_ce_cRLNumber);
    const aki = parsed.getExtension(x509.AuthorityKeyIdentifierExtension);
    return Object.freeze({
      der,
      issuer: parsed.issuer,
      issuerName: crlIssuerKey(asn.tbsCertListRaw ?? Buffer.alloc(0)),
      number: numberExt ? BigInt(AsnConvert.parse(numberExt.value, CRLNumber).value) : undefined,
      thisUpdate: parsed.thisUpdate,
      nextUpdate: parsed.nextUpdate,
      revokedSerials: new Set(parsed.entries.map((e) => comparableSerial(e.serialNumber))),
      authorityKeyId: aki?.keyId?.toLowerCase(),
      source,
      line,
      parsed,
    });
  } catch (error) {
    const where = line === undefined ? source : `${source}:${line}`;
    throw new CertificateError("PEM_BAD_DER", `${where}: not a valid CRL: ${(error as Error).message}`, {
      cause: error,
      detail: { source, line: line ?? null },
    });
  }
}

/** Whether `issuer`'s key verifies the CRL's signature (RFC 5280 6.3.3 (f)); names are the caller's check. */
export async function crlSignedBy(crl: Crl, issuer: Certificate): Promise<boolean> {
  try {
    return await crl.parsed.verify({ publicKey: new x509.X509Certificate(issuer.der).publicKey });
  } catch {
    return false; // unsupported or mismatched algorithm: not verified
  }
}
