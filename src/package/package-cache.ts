import { createPublicKey, type KeyObject } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import type { Certificate as AsnCertificate } from "@peculiar/asn1-x509";
import { BoundedMemo } from "../bounded-memo.js";
import { VERIFICATION_CACHE_SIZES, VerificationCache, type VerificationCacheSizes } from "../pki/verification-cache.js";
import type { Pkcs7Signature } from "./pkcs7-signature.js";

/** A certificate of a signature or of CERTIFICATE_CHAIN as the signer look-up reads it, its issuer DER and key derived once. */
export class EmbeddedCertificate {
  private issuer?: Buffer;
  private key?: KeyObject;

  constructor(readonly asn: AsnCertificate) {}

  get issuerDer(): Buffer {
    return (this.issuer ??= Buffer.from(AsnConvert.serialize(this.asn.tbsCertificate.issuer)));
  }

  get publicKey(): KeyObject {
    return (this.key ??= createPublicKey({ key: Buffer.from(AsnConvert.serialize(this.asn.tbsCertificate.subjectPublicKeyInfo)), format: "der", type: "spki" }));
  }
}

export interface PackageCacheSizes extends VerificationCacheSizes {
  /** Parsed +PKG_SIGNATURE texts: repo sign reads a signature to decide whether to skip, then verifies it. */
  readonly pkcs7Signatures: number;
  /** Certificates parsed for the signer look-up, by DER: the packages of one repository embed the same few. */
  readonly embeddedCertificates: number;
}

export const PACKAGE_CACHE_SIZES: PackageCacheSizes = Object.freeze({ ...VERIFICATION_CACHE_SIZES, pkcs7Signatures: 16, embeddedCertificates: 64 });

/** A VerificationCache with the PKCS#7 reader's memos: one per run of package verifications (repo sign makes one). */
export class PackageCache extends VerificationCache {
  readonly pkcs7Signatures: BoundedMemo<Pkcs7Signature>;
  readonly embeddedCertificates: BoundedMemo<EmbeddedCertificate>;

  constructor(sizes: PackageCacheSizes = PACKAGE_CACHE_SIZES) {
    super(sizes);
    this.pkcs7Signatures = new BoundedMemo(sizes.pkcs7Signatures);
    this.embeddedCertificates = new BoundedMemo(sizes.embeddedCertificates);
  }
}
