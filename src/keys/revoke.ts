import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import { basename, dirname, extname, join } from "node:path";
import { parseCrl, crlSignedBy, type Crl } from "../pki/crl.js";
import { readPem } from "../pki/pem.js";
import { PkgtrustError } from "../errors.js";
import * as x509 from "../pki/x509.js";
import type { LoadedCa } from "./ca.js";
import { authorityKeyIdentifier, importSigningKey, signingAlgorithm } from "./issue.js";
import { OperatorError } from "./operator-errors.js";
import { pemBlock } from "./pem-block.js";
import { comparableSerial } from "../pki/serial.js";

const DAY_MS = 86_400_000;

/**
 * How far away nextUpdate is by default (docs/master-key.md): the root's key is offline and
 * comes out at a ceremony a few times a year, so its CRL lasts a year and is renewed at a
 * scheduled ceremony months before then; an intermediate's key is at hand, so its CRL
 * lasts 30 days. refresh refuses a CRL past nextUpdate (the freeze rule), so the shortest
 * nextUpdate in a bundle, an intermediate's, is how soon a frozen mirror is noticed.
 */
export const NEXT_UPDATE_DAYS = { root: 365, intermediate: 30 } as const;

export function defaultNextUpdateDays(ca: LoadedCa): number {
  return ca.certificate.selfSigned ? NEXT_UPDATE_DAYS.root : NEXT_UPDATE_DAYS.intermediate;
}

/**
 * A serial number as openssl prints it, with an optional 0x prefix and colons, as lowercase
 * hex without leading zeros (the form of Certificate.serialNumber and Crl.revokedSerials).
 */
export function parseSerial(input: string): string {
  const hex = input.trim().replace(/^0x/i, "").replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new OperatorError("KEYS_BAD_SERIAL", `'${input}' is not a hexadecimal serial number`, { detail: { serial: input } });
  const stripped = comparableSerial(hex);
  // RFC 5280 4.1.2.2: at most 20 octets, positive.
  if (stripped.length > 40 || stripped === "0") throw new OperatorError("KEYS_BAD_SERIAL", `'${input}' is not a valid serial number (1 to 20 octets, positive)`, { detail: { serial: input } });
  return stripped;
}

/** The DER INTEGER content of a positive serial: even length, a 00 octet when the top bit is set. */
export function serialContentHex(serial: string): string {
  const even = serial.length % 2 === 1 ? `0${serial}` : serial;
  return parseInt(even.slice(0, 1), 16) >= 8 ? `00${even}` : even;
}

/** The default CRL file: beside the CA certificate, its name with .crl.pem for the extension (dev-ca.pem: dev-ca.crl.pem). */
export function defaultCrlPath(caCertPath: string): string {
  const name = basename(caCertPath);
  const extension = extname(name);
  const stem = [".pem", ".crt", ".cer"].includes(extension.toLowerCase()) ? name.slice(0, -extension.length) : name;
  return join(dirname(caCertPath), `${stem}.crl.pem`);
}

/** Reads the CA's existing CRL and proves it is this CA's (RFC 5280 6.3.3 (b), (f)): a foreign CRL is never extended. */
export async function readExistingCrl(text: string, source: string, ca: LoadedCa): Promise<Crl> {
  let crls: Crl[];
  try {
    crls = readPem(text, { source, labels: ["X509 CRL"] }).map((block) => parseCrl(block.der, source, block.line));
  } catch (error) {
    if (error instanceof PkgtrustError) throw new OperatorError("KEYS_CRL_UNREADABLE", error.message, { cause: error, detail: { file: source } });
    throw error;
  }
  const [crl] = crls;
  if (!crl || crls.length !== 1) throw new OperatorError("KEYS_CRL_UNREADABLE", `${source} holds ${crls.length} CRLs, not exactly one`, { detail: { file: source } });
  if (crl.issuerName !== ca.certificate.subjectName || !(await crlSignedBy(crl, ca.certificate))) {
    throw new OperatorError("KEYS_CRL_FOREIGN", `${source} is a CRL of ${crl.issuer} that ${ca.certificate.subject}'s key did not sign`, { detail: { file: source, issuer: crl.issuer } });
  }
  return crl;
}

export interface RevokeRequest {
  readonly ca: LoadedCa;
  /** The serial to add; without one the CRL is only renewed (keys crl). */
  readonly serial?: string;
  readonly previous?: Crl;
  readonly now: Date;
  readonly nextUpdateDays: number;
}

export interface RevokeResult {
  readonly pem: string;
  readonly crl: Crl;
  /** The serial was already listed (or none was given); the CRL was signed again with a new number. */
  readonly alreadyRevoked: boolean;
}

/**
 * Signs the CA's next CRL: the previous entries (with their dates and reasons), the new
 * serial if any, cRLNumber one higher (RFC 5280 5.2.3: monotonically increasing; refresh refuses
 * a lower one as a rollback), AuthorityKeyIdentifier (5.2.1), nextUpdate (5.1.2.5).
 */
export async function signNextCrl(request: RevokeRequest): Promise<RevokeResult> {
  const { ca, previous, now } = request;
  const serial = request.serial === undefined ? undefined : parseSerial(request.serial);
  const entries: x509.X509CrlEntryParams[] = (previous?.parsed.entries ?? []).map((entry) => ({
    serialNumber: serialContentHex(parseSerial(entry.serialNumber)),
    revocationDate: entry.revocationDate,
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
  }));
  const alreadyRevoked = serial !== undefined && (previous?.revokedSerials.has(serial) ?? false);
  if (serial !== undefined && !alreadyRevoked) entries.push({ serialNumber: serialContentHex(serial), revocationDate: now });
  const number = (previous?.number ?? 0n) + 1n;
  const issuer = new x509.X509Certificate(ca.certificatePem);
  const signing = await importSigningKey(ca.privateKeyPem);
  const generated = await x509.X509CrlGenerator.create({
    issuer: issuer.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + request.nextUpdateDays * DAY_MS),
    signingAlgorithm: signingAlgorithm(signing.type),
    signingKey: signing.key,
    entries,
    extensions: [await authorityKeyIdentifier(issuer), new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(crlNumber(number)))],
  });
  const der = new Uint8Array(generated.rawData);
  return { pem: pemBlock("X509 CRL", der), crl: parseCrl(der, "new CRL"), alreadyRevoked };
}

/** CRLNumber's schema holds a JS number; past 2^53 the count would lose precision, which no real CA reaches. */
function crlNumber(number: bigint): CRLNumber {
  if (number > BigInt(Number.MAX_SAFE_INTEGER)) throw new OperatorError("KEYS_CRL_UNREADABLE", `CRL number ${number} is too large to continue`);
  return new CRLNumber(Number(number));
}
