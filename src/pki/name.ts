/**
 * Names compared as OpenSSL compares them (X509_NAME_cmp, crypto/x509/x_name.c
 * x509_name_canon): issuer look-up, self-issued, CRL issuers. The canonical encoding keeps
 * each RDN as a DER SET OF its attributes, with the values of the string types in
 * ASN1_MASK_CANON converted to a UTF8String that has leading and trailing white space
 * removed, inner runs of white space made one space and ASCII letters lower-cased (RFC 5280
 * 7.1); other values stay as they are, empty RDNs vanish and the outer SEQUENCE is left out.
 * So "pkgsrc CA" as a PrintableString matches " PKGSRC  ca" as a UTF8String, as in pkg_install.
 */
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, type IAsnConverter } from "@peculiar/asn1-schema";
import { DirectoryString } from "@peculiar/asn1-x509";
import type { VerificationCache } from "./verification-cache.js";

/** An attribute value's universal tag, whether it is constructed, and its content octets (asn1js's view of the value). */
interface RawValue {
  readonly tag: number;
  readonly constructed: boolean;
  readonly content: Uint8Array;
  readonly der: ArrayBuffer;
}

interface Asn1Block {
  idBlock: { tagClass: number; tagNumber: number; isConstructed: boolean };
  valueBlock: { valueHexView?: Uint8Array };
  valueBeforeDecodeView: Uint8Array;
}

const rawValueConverter: IAsnConverter<RawValue> = {
  fromASN(asn1: unknown): RawValue {
    const value = asn1 as Asn1Block;
    // X509_NAME_ENTRY's value is an ASN1_PRINTABLE, always of the universal class (MSTRING_NOT_UNIVERSAL otherwise).
    if (value.idBlock.tagClass !== 1) throw new Error("a name attribute value that is not of a universal type");
    const der = value.valueBeforeDecodeView;
    return {
      tag: value.idBlock.tagNumber,
      constructed: value.idBlock.isConstructed,
      content: value.valueBlock.valueHexView ?? new Uint8Array(0),
      der: der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer,
    };
  },
  toASN(): never {
    throw new Error("raw name values are only read");
  },
};

class RawAttribute {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  type = "";

  @AsnProp({ type: AsnPropTypes.Any, converter: rawValueConverter })
  value!: RawValue;
}

@AsnType({ type: AsnTypeTypes.Set, itemType: RawAttribute })
class RawRdn extends AsnArray<RawAttribute> {}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RawRdn })
class RawName extends AsnArray<RawRdn> {}

/** An attribute of the canonical form: the value as DER, as it is or as the canonical UTF8String. */
class CanonicalAttribute {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  type = "";

  @AsnProp({ type: AsnPropTypes.Any })
  value = new ArrayBuffer(0);

  constructor(type = "", value = new ArrayBuffer(0)) {
    this.type = type;
    this.value = value;
  }
}

@AsnType({ type: AsnTypeTypes.Set, itemType: AsnPropTypes.Any })
class CanonicalRdn extends AsnArray<ArrayBuffer> {}

/** The first fields of a TBSCertificate (RFC 5280 4.1), as DER: where the names are. */
@AsnType({ type: AsnTypeTypes.Sequence })
class CertificateNames {
  @AsnProp({ type: AsnPropTypes.Any, context: 0, optional: true })
  version?: ArrayBuffer;

  @AsnProp({ type: AsnPropTypes.Any })
  serialNumber = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  signature = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  issuer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  validity = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  subject = new ArrayBuffer(0);
}

/** The first fields of a TBSCertList (RFC 5280 5.1). */
@AsnType({ type: AsnTypeTypes.Sequence })
class CrlNames {
  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  version?: number;

  @AsnProp({ type: AsnPropTypes.Any })
  signature = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  issuer = new ArrayBuffer(0);
}

const UTF8_STRING = 12;
const latin1 = (content: Uint8Array) => Buffer.from(content).toString("latin1");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Code units of `width` bytes, big-endian, each a Unicode scalar value (a_mbstr.c: BMP and Universal strings; is_unicode_valid). */
function codePoints(content: Uint8Array, width: 2 | 4, type: string): string {
  if (content.length % width !== 0) throw new Error(`a ${type} of ${content.length} bytes`);
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  let text = "";
  for (let at = 0; at < content.length; at += width) {
    const value = width === 2 ? view.getUint16(at) : view.getUint32(at);
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) throw new Error(`a ${type} holding U+${value.toString(16)}, not a Unicode character`);
    text += String.fromCodePoint(value);
  }
  return text;
}

/**
 * ASN1_MASK_CANON: the string types canonicalised, with ASN1_STRING_to_UTF8's reading of
 * each (one byte a character for PrintableString, T61String, IA5String and VisibleString).
 * A value OpenSSL cannot convert makes it reject the whole certificate or CRL.
 */
const CANONICAL_TYPES: ReadonlyMap<number, (content: Uint8Array) => string> = new Map([
  [UTF8_STRING, (content: Uint8Array) => {
    try {
      return strictUtf8.decode(content);
    } catch {
      throw new Error("a UTF8String that is not valid UTF-8");
    }
  }],
  [19, latin1], // PrintableString
  [20, latin1], // T61String
  [22, latin1], // IA5String
  [26, latin1], // VisibleString
  [28, (content: Uint8Array) => codePoints(content, 4, "UniversalString")],
  [30, (content: Uint8Array) => codePoints(content, 2, "BMPString")],
]);

/** B_ASN1_PRINTABLE: the value types X509_NAME_ENTRY accepts (through ASN1_tag2bit); others make OpenSSL reject the name. */
const PRINTABLE_TAGS = new Set([3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 28, 29, 30]);

/** asn1_string_canon's character rules: ASCII white space only (ossl_isspace), ASCII letters only (ossl_tolower). */
const canonicalText = (text: string) =>
  text
    .replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "")
    .replace(/[\t\n\v\f\r ]+/g, " ")
    .replace(/[A-Z]/g, (letter) => letter.toLowerCase());

function canonicalValue(value: RawValue): ArrayBuffer {
  if (!PRINTABLE_TAGS.has(value.tag)) throw new Error(`a name attribute value of universal type ${value.tag}, which X.509 names cannot hold`);
  const decode = CANONICAL_TYPES.get(value.tag);
  if (!decode) return value.der;
  // DER strings are primitive; a constructed (BER) one is refused rather than re-assembled.
  if (value.constructed) throw new Error(`a constructed string of universal type ${value.tag} in a name`);
  return AsnConvert.serialize(new DirectoryString({ utf8String: canonicalText(decode(value.content)) }));
}

/** DER SET OF: the encodings in ascending order (X.690 11.6), as OpenSSL's i2d sorts them. */
function canonicalRdn(rdn: RawRdn): Buffer {
  const attributes = rdn.map((attribute) => Buffer.from(AsnConvert.serialize(new CanonicalAttribute(attribute.type, canonicalValue(attribute.value)))));
  attributes.sort(Buffer.compare);
  return Buffer.from(AsnConvert.serialize(new CanonicalRdn(attributes.map((a) => a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer))));
}

/**
 * The canonical encoding of a DER Name, the bytes whose SHA-1 `openssl x509 -subject_hash`
 * prints (little-endian, first four bytes); equal encodings are equal names. The empty name
 * (and one of empty RDNs only) is the empty encoding. Throws when OpenSSL would refuse the name.
 */
export function canonicalNameDer(name: ArrayBuffer | ArrayBufferView): Buffer {
  return Buffer.concat(AsnConvert.parse(name, RawName).filter((rdn) => rdn.length > 0).map(canonicalRdn));
}

/** Canonical names as hex: the keys by which certificates and CRLs are matched (memoised by DER in `cache`). */
function canonicalKey(name: ArrayBuffer, cache: VerificationCache | undefined): string {
  const compute = () => canonicalNameDer(name).toString("hex");
  return cache ? cache.names.get(Buffer.from(name).toString("hex"), compute) : compute();
}

/** The canonical subject and issuer of a certificate, from its DER TBSCertificate. */
export function certificateNameKeys(tbsCertificate: ArrayBuffer | ArrayBufferView, cache?: VerificationCache): { subject: string; issuer: string } {
  const names = AsnConvert.parse(tbsCertificate, CertificateNames);
  return { subject: canonicalKey(names.subject, cache), issuer: canonicalKey(names.issuer, cache) };
}

/** The canonical issuer of a CRL, from its DER TBSCertList. */
export function crlIssuerKey(tbsCertList: ArrayBuffer | ArrayBufferView): string {
  return canonicalNameDer(AsnConvert.parse(tbsCertList, CrlNames).issuer).toString("hex");
}
