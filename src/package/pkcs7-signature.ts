import { createHash, verify as cryptoVerify } from "node:crypto";
import { Attribute, id_signedData, SignerInfo } from "@peculiar/asn1-cms";
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from "@peculiar/asn1-schema";
import { Certificate as AsnCertificate, Name } from "@peculiar/asn1-x509";
import { PackageError } from "./errors.js";
import { EmbeddedCertificate, type PackageCache } from "./package-cache.js";
import { SignedContentInfo, type SignedDataRawCertificates } from "./pkcs7-raw-certificates.js";

/**
 * The +PKG_SIGNATURE member: a PEM PKCS#7 detached SignedData over +PKG_HASH, checked
 * the way OpenSSL's PKCS7_verify does (signer lookup, digest, signature), without the
 * certificate path, which verdict.ts decides.
 */

export interface Pkcs7Signature {
  /** DER of the certificates embedded in the signature, in order. */
  readonly embedded: readonly Uint8Array[];
  readonly signerInfos: readonly SignerInfo[];
  /** SignedData's digestAlgorithms as node:crypto names: the digests PKCS7_dataInit computes. */
  readonly digests: readonly string[];
}

export interface VerifiedSigner {
  /** DER of the signer's certificate. */
  readonly certificate: Uint8Array;
  /** Whether the certificate came from the signature itself (pkg_install needs that, see verdict.ts). */
  readonly embedded: boolean;
  readonly digest: string;
  readonly signedAttributes: boolean;
}

export const id_messageDigest = "1.2.840.113549.1.9.4";
export const id_contentType = "1.2.840.113549.1.9.3";

const DIGESTS: Readonly<Record<string, string>> = {
  "1.2.840.113549.2.5": "md5",
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
/**
 * OpenSSL registers each RSA signature OID as a name of its digest (EVP_get_digestbyobj
 * finds SHA-256 for sha256WithRSAEncryption), and PKCS7_signatureVerify also takes a signer
 * whose digestAlgorithm is that OID ("broken clients that put the signature OID instead of
 * the digest OID"). ECDSA's OIDs have no such alias.
 */
const RSA_DIGEST_ALIASES: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.4": "md5",
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};

const digestOf = (oid: string): string | undefined => DIGESTS[oid] ?? RSA_DIGEST_ALIASES[oid];

/** Digests pkg_install accepts but that no longer resist collisions. */
export const WEAK_DIGESTS: ReadonlySet<string> = new Set(["md5", "sha1"]);

/** Signature algorithm OIDs by key family; OpenSSL takes the digest from digestAlgorithm. */
const SIGNATURE_FAMILIES: Readonly<Record<string, "rsa" | "ec" | "dsa">> = {
  "1.2.840.10040.4.1": "dsa",
  "1.2.840.10040.4.3": "dsa",
  "2.16.840.1.101.3.4.3.1": "dsa",
  "2.16.840.1.101.3.4.3.2": "dsa",
  "1.2.840.113549.1.1.1": "rsa",
  "1.2.840.113549.1.1.4": "rsa",
  "1.2.840.113549.1.1.5": "rsa",
  "1.2.840.113549.1.1.11": "rsa",
  "1.2.840.113549.1.1.12": "rsa",
  "1.2.840.113549.1.1.13": "rsa",
  "1.2.840.113549.1.1.14": "rsa",
  "1.2.840.10045.2.1": "ec",
  "1.2.840.10045.4.1": "ec",
  "1.2.840.10045.4.3.1": "ec",
  "1.2.840.10045.4.3.2": "ec",
  "1.2.840.10045.4.3.3": "ec",
  "1.2.840.10045.4.3.4": "ec",
};

/** SignedAttributes re-encoded as a universal SET for signing (RFC 5652 section 5.4). */
@AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })
export class SignedAttributeSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributeSet.prototype);
  }
}

/** The value of a contentType attribute: one OBJECT IDENTIFIER. */
@AsnType({ type: AsnTypeTypes.Choice })
export class ContentTypeValue {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  value = "";

  constructor(value = "") {
    this.value = value;
  }
}

/**
 * PEM_read_bio_PKCS7: lines before a "-----BEGIN " line at the start of a line are skipped,
 * and so are whole PEM blocks of other types. check_pem takes PKCS7, "PKCS #7 SIGNED DATA"
 * and also CERTIFICATE for a PKCS7 (which then fails to decode as one); the END line must
 * carry the same label.
 */
const PEM_BLOCK = /(?:^|\n)-----BEGIN (PKCS7|PKCS #7 SIGNED DATA|CERTIFICATE)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/;

function unsupportedDigest(oid: string): never {
  throw new PackageError("PKG_UNSUPPORTED_ALGORITHM", `unsupported digest algorithm ${oid}`);
}

function formatError(message: string, cause?: unknown): never {
  throw new PackageError("PKG_SIGNATURE_FORMAT", `+PKG_SIGNATURE: ${message}`, { cause });
}

/** Parses the PEM text (OpenSSL's PEM_read_bio_PKCS7 takes the first PKCS7 block); memoised by text in `cache`. */
export function readPkcs7Signature(text: string, cache?: PackageCache): Pkcs7Signature {
  return cache ? cache.pkcs7Signatures.get(text, () => parseSignature(text, cache)) : parseSignature(text, undefined);
}

function parseSignature(text: string, cache: PackageCache | undefined): Pkcs7Signature {
  const match = PEM_BLOCK.exec(text);
  if (!match?.[2]) formatError("no '-----BEGIN PKCS7-----' block");
  if (match[1] === "CERTIFICATE") formatError("a CERTIFICATE block comes before the PKCS7 block, and OpenSSL's PEM reader takes it for the signature");
  const der = Buffer.from(match[2].replace(/\s+/g, ""), "base64");
  let signed: SignedDataRawCertificates;
  try {
    // Decoded once as a whole; other content (enveloped data ...) fails to decode as SignedData.
    const info = AsnConvert.parse(der, SignedContentInfo);
    if (info.contentType !== id_signedData) formatError(`content type ${info.contentType} is not signedData`);
    signed = info.content;
  } catch (error) {
    if (error instanceof PackageError) throw error;
    formatError("not a DER PKCS#7 structure", error);
  }
  // The signed content is always +PKG_HASH: PKCS7_verify is given it as indata, and
  // PKCS7_dataInit then reads that instead of any content embedded here (flags 0, so no
  // PKCS7_NO_DUAL_CONTENT refusal), whatever its type. Embedded content is never read.
  if (signed.signerInfos.length === 0) formatError("no signer");
  // pkg_install reads PKCS#7, whose SignerInfo names the signer by issuer and serial only;
  // a CMS subjectKeyIdentifier makes PEM_read_bio_PKCS7 fail, so it is refused here too.
  if (signed.signerInfos.some((info) => !info.sid.issuerAndSerialNumber)) formatError("a signer is named by subject key identifier, which pkg_install's PKCS#7 reader cannot parse");
  const embedded = [...(signed.certificates ?? [])].map((raw) => new Uint8Array(raw));
  // OpenSSL's PKCS7 reads this SET OF X509: an attribute or "other" certificate fails PEM_read_bio_PKCS7.
  for (const der of embedded) parseCert(der, cache);
  // PKCS7_dataInit starts one digest per digestAlgorithms entry; one OpenSSL does not know fails the whole verification.
  const digests = [...signed.digestAlgorithms].map((a) => digestOf(a.algorithm) ?? unsupportedDigest(a.algorithm));
  return { embedded, signerInfos: [...signed.signerInfos], digests };
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString("hex").replace(/^(00)+(?=.)/, "");
}

function matches(info: SignerInfo, cert: EmbeddedCertificate): boolean {
  const ias = info.sid.issuerAndSerialNumber;
  if (ias === undefined || hex(ias.serialNumber) !== hex(cert.asn.tbsCertificate.serialNumber)) return false;
  return Buffer.from(AsnConvert.serialize(ias.issuer)).equals(cert.issuerDer);
}

/** Parses a certificate for the signer look-up; memoised by DER in `cache`. */
function parseCert(der: Uint8Array, cache: PackageCache | undefined): EmbeddedCertificate {
  return cache ? cache.embeddedCertificates.get(Buffer.from(der).toString("base64"), () => parseCertUncached(der)) : parseCertUncached(der);
}

function parseCertUncached(der: Uint8Array): EmbeddedCertificate {
  try {
    return new EmbeddedCertificate(AsnConvert.parse(der, AsnCertificate));
  } catch (error) {
    formatError("a certificate cannot be parsed", error);
  }
}

function signerName(info: SignerInfo): string {
  const ias = info.sid.issuerAndSerialNumber;
  return ias ? `serial ${hex(ias.serialNumber)} of issuer ${nameText(ias.issuer)}` : "an unnamed signer";
}

function nameText(name: Name): string {
  return name.map((rdn) => rdn.map((a) => `${a.type}=${a.value.toString()}`).join("+")).join(", ");
}

/** The data the signature covers: the content itself, or the signed attributes after checking them. */
function signedBytes(info: SignerInfo, digest: string, content: Uint8Array): Buffer {
  // OpenSSL's PKCS7_signatureVerify: an empty set counts as none.
  if (!info.signedAttrs || info.signedAttrs.length === 0) return Buffer.from(content);
  // PKCS7_digest_from_attributes: the first messageDigest attribute's first value must equal
  // the content's digest. Unlike CMS, PKCS#7 in OpenSSL checks no contentType attribute, so
  // neither does pkgtrust: pkg_install accepts a signature without one or with another type.
  const messageDigest = info.signedAttrs.find((a) => a.attrType === id_messageDigest)?.attrValues[0];
  if (!messageDigest) formatError("signed attributes without messageDigest");
  const expected = AsnConvert.parse(messageDigest, OctetString);
  if (!Buffer.from(expected.buffer).equals(createHash(digest).update(content).digest())) {
    throw new PackageError("PKG_BAD_SIGNATURE", "the messageDigest attribute does not match +PKG_HASH");
  }
  return Buffer.from(AsnConvert.serialize(new SignedAttributeSet(info.signedAttrs)));
}

/**
 * Finds each signer's certificate the way PKCS7_get0_signers does (the `certs` argument,
 * i.e. CERTIFICATE_CHAIN, first, then the embedded certificates) and checks its signature
 * over `content`. Every signer must verify, as in PKCS7_verify.
 */
export function verifySigners(signature: Pkcs7Signature, content: Uint8Array, chain: readonly Uint8Array[], cache?: PackageCache): VerifiedSigner[] {
  const candidates = [
    ...chain.map((der) => ({ der, embedded: false })),
    ...signature.embedded.map((der) => ({ der, embedded: true })),
  ].map((c) => ({ ...c, cert: parseCert(c.der, cache) }));
  return signature.signerInfos.map((info) => {
    const digest = digestOf(info.digestAlgorithm.algorithm) ?? unsupportedDigest(info.digestAlgorithm.algorithm);
    // PKCS7_signatureVerify finds the signer's digest among those SignedData listed, else "unable to find message digest".
    if (!signature.digests.includes(digest)) throw new PackageError("PKG_BAD_SIGNATURE", `the signer's digest ${digest} is not among the signature's digestAlgorithms`);
    const found = candidates.find((c) => matches(info, c.cert));
    if (!found) throw new PackageError("PKG_SIGNER_NOT_FOUND", `the certificate of the signer (${signerName(info)}) is neither in the signature nor in the chain file`);
    // A signer whose certificate is in the chain file but also embedded counts as embedded for pkg_install.
    const embedded = found.embedded || candidates.some((c) => c.embedded && matches(info, c.cert));
    const key = found.cert.publicKey;
    const family = SIGNATURE_FAMILIES[info.signatureAlgorithm.algorithm];
    const keyFamily = key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "ec" || key.asymmetricKeyType === "dsa" ? key.asymmetricKeyType : undefined;
    if (!family || family !== keyFamily) {
      throw new PackageError("PKG_UNSUPPORTED_ALGORITHM", `unsupported signature algorithm ${info.signatureAlgorithm.algorithm} for a ${key.asymmetricKeyType ?? "unknown"} key`);
    }
    const data = signedBytes(info, digest, content);
    if (!cryptoVerify(digest, data, key, Buffer.from(info.signature.buffer))) {
      throw new PackageError("PKG_BAD_SIGNATURE", `the signature of ${signerName(info)} does not verify over +PKG_HASH`);
    }
    return { certificate: found.der, embedded, digest, signedAttributes: info.signedAttrs !== undefined };
  });
}
