import { CMSVersion, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, RevocationInfoChoices, SignerInfos } from "@peculiar/asn1-cms";
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from "@peculiar/asn1-schema";

/**
 * PKCS#7 SignedData (RFC 2315 9.1, RFC 5652 5.1) with its certificates kept as DER: the
 * same schema as @peculiar/asn1-cms's SignedData except that `certificates` is a SET OF
 * ANY. Decoding each embedded certificate into objects and encoding it back is most of the
 * cost of reading or making a signature; here the certificates pass through as bytes and
 * are parsed once per distinct DER elsewhere. OpenSSL's PKCS7 (what pkg_install reads)
 * declares this field [0] IMPLICIT SEQUENCE OF X509 (crypto/pkcs7/pk7_asn1.c; the implicit
 * tag makes it the same bytes as a SET OF), so every element must be a certificate.
 */

@AsnType({ type: AsnTypeTypes.Set, itemType: AsnPropTypes.Any })
export class RawCertificateSet extends AsnArray<ArrayBuffer> {
  constructor(items?: ArrayBuffer[]) {
    super(items);
    Object.setPrototypeOf(this, RawCertificateSet.prototype);
  }
}

export class SignedDataRawCertificates {
  @AsnProp({ type: AsnPropTypes.Integer })
  version: CMSVersion = CMSVersion.v1;

  @AsnProp({ type: DigestAlgorithmIdentifiers })
  digestAlgorithms = new DigestAlgorithmIdentifiers();

  @AsnProp({ type: EncapsulatedContentInfo })
  encapContentInfo = new EncapsulatedContentInfo();

  @AsnProp({ type: RawCertificateSet, context: 0, implicit: true, optional: true })
  certificates?: RawCertificateSet;

  @AsnProp({ type: RevocationInfoChoices, context: 1, implicit: true, optional: true })
  crls?: RevocationInfoChoices;

  @AsnProp({ type: SignerInfos })
  signerInfos = new SignerInfos();

  constructor(params: Partial<SignedDataRawCertificates> = {}) {
    Object.assign(this, params);
  }
}

/** ContentInfo (RFC 5652 3) whose content is that SignedData: one decode and one encode of the whole, not two. */
export class SignedContentInfo {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  contentType = "";

  @AsnProp({ type: SignedDataRawCertificates, context: 0 })
  content = new SignedDataRawCertificates();

  constructor(params: Partial<SignedContentInfo> = {}) {
    Object.assign(this, params);
  }
}
