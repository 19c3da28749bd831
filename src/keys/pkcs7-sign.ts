import { createHash, randomBytes, sign as cryptoSign, type KeyObject } from "node:crypto";
import { Attribute, EncapsulatedContentInfo, id_data, id_signedData, IssuerAndSerialNumber, SignerIdentifier, SignerInfo, SignerInfos, DigestAlgorithmIdentifiers, CMSVersion } from "@peculiar/asn1-cms";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Certificate as AsnCertificate } from "@peculiar/asn1-x509";
import { ContentTypeValue, id_contentType, id_messageDigest, SignedAttributeSet } from "../package/pkcs7-signature.js";
import { RawCertificateSet, SignedContentInfo, SignedDataRawCertificates } from "../package/pkcs7-raw-certificates.js";

/**
 * A PEM PKCS#7 detached SignedData as pkg_install's signer makes it
 * (PKCS7_sign with PKCS7_DETACHED|PKCS7_NOATTR|PKCS7_BINARY): SHA-256, the signer's
 * certificate then the chain file's certificates embedded, no signed attributes unless
 * asked for (tests use them to cover verifiers).
 */

const SHA256 = "2.16.840.1.101.3.4.2.1";
const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

export interface DetachedSignatureRequest {
  readonly key: KeyObject;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  /** true: contentType and messageDigest; a function: exactly the attributes it returns for the content's SHA-256 (tests' odd shapes). */
  readonly signedAttributes?: boolean | ((messageDigest: Buffer) => Attribute[]);
}

function pem(der: Uint8Array): string {
  return `-----BEGIN PKCS7-----\n${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64").replace(/.{1,64}/g, "$&\n")}-----END PKCS7-----\n`;
}

export function signDetached(content: Uint8Array, request: DetachedSignatureRequest): string {
  return detachedSigner(request)(content);
}

/** The same signer for many contents: the certificates are parsed once (repo sign signs thousands of packages). */
export function detachedSigner(request: DetachedSignatureRequest): (content: Uint8Array) => string {
  const cert = AsnConvert.parse(request.certificate, AsnCertificate);
  const rsa = request.key.asymmetricKeyType === "rsa";
  if (!rsa && request.key.asymmetricKeyType !== "ec") throw new RangeError(`cannot sign with a ${request.key.asymmetricKeyType ?? "unknown"} key`);
  const digestAlgorithm = new AlgorithmIdentifier({ algorithm: SHA256 });
  const certificates = [request.certificate, ...request.chain].map((der) => new Uint8Array(der).buffer);
  const encode = (signature: Uint8Array, signedAttrs?: Attribute[]): ArrayBuffer => {
    const signerInfo = new SignerInfo({
      version: CMSVersion.v1,
      sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }) }),
      digestAlgorithm,
      signedAttrs,
      signatureAlgorithm: new AlgorithmIdentifier(rsa ? { algorithm: RSA_ENCRYPTION, parameters: null } : { algorithm: ECDSA_WITH_SHA256 }),
      signature: new OctetString(signature),
    });
    // The certificates go in as DER (the same encoding as SignedData's CertificateSet of certificates).
    const signed = new SignedDataRawCertificates({
      version: CMSVersion.v1,
      digestAlgorithms: new DigestAlgorithmIdentifiers([digestAlgorithm]),
      encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
      certificates: new RawCertificateSet(certificates),
      signerInfos: new SignerInfos([signerInfo]),
    });
    return AsnConvert.serialize(new SignedContentInfo({ contentType: id_signedData, content: signed }));
  };
  // Without signed attributes only the signature value differs from one content to the next:
  // the structure is encoded once per signature length (ECDSA's DER varies by a byte or two)
  // around a random placeholder, and each signature takes the placeholder's place.
  const templates = new Map<number, { readonly der: Buffer; readonly at: number }>();
  const template = (length: number) => {
    let known = templates.get(length);
    if (!known) {
      const placeholder = randomBytes(length);
      const der = Buffer.from(encode(placeholder));
      const at = der.indexOf(placeholder);
      if (at < 0 || der.indexOf(placeholder, at + 1) >= 0) throw new Error("the PKCS#7 template does not hold its placeholder exactly once");
      templates.set(length, (known = { der, at }));
    }
    return known;
  };
  return (content) => {
    if (!request.signedAttributes) {
      const signature = cryptoSign("sha256", content, request.key);
      const { der, at } = template(signature.length);
      const out = Buffer.from(der);
      signature.copy(out, at);
      return pem(out);
    }
    const digest = createHash("sha256").update(content).digest();
    const signedAttrs =
      typeof request.signedAttributes === "function"
        ? request.signedAttributes(digest)
        : [
            new Attribute({ attrType: id_contentType, attrValues: [AsnConvert.serialize(new ContentTypeValue(id_data))] }),
            new Attribute({ attrType: id_messageDigest, attrValues: [AsnConvert.serialize(new OctetString(digest))] }),
          ];
    return pem(new Uint8Array(encode(cryptoSign("sha256", Buffer.from(AsnConvert.serialize(new SignedAttributeSet(signedAttrs))), request.key), signedAttrs)));
  };
}
