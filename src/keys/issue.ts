import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "../pki/x509.js";

/** The only key types pkgtrust generates: ECDSA P-256 (default) or RSA 3072, SHA-256 signatures. */
export const KEY_ALGORITHMS = ["ec-p256", "rsa-3072"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface KeyAndCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

const DAY_MS = 86_400_000;
const CODE_SIGNING = "1.3.6.1.5.5.7.3.3";
const EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

function generationParameters(algorithm: KeyAlgorithm): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  return algorithm === "ec-p256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
}

export function signingAlgorithm(keyType: string): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return keyType === "ec" ? ({ name: "ECDSA", hash: "SHA-256" } as webcrypto.EcdsaParams) : { name: "RSASSA-PKCS1-v1_5" };
}

async function generateKeys(algorithm: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(generationParameters(algorithm), true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

/** Loads an issuer's PEM key (EC P-256 or RSA) for webcrypto. */
export async function importSigningKey(privateKeyPem: string): Promise<{ key: webcrypto.CryptoKey; type: string }> {
  const key = createPrivateKey(privateKeyPem);
  const type = key.asymmetricKeyType ?? "";
  const der = key.export({ type: "pkcs8", format: "der" });
  const algorithm = type === "ec" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  return { key: await webcrypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]), type };
}

/** A positive 127-bit serial (RFC 5280 4.1.2.2: unique per issuer, at most 20 octets). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

async function exportKeyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString();
}

export interface IssueRequest {
  readonly commonName: string;
  readonly days: number;
  readonly algorithm?: KeyAlgorithm;
  readonly now?: Date;
}

export interface Issuer {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

function validity(request: IssueRequest) {
  const notBefore = request.now ?? new Date();
  return { notBefore, notAfter: new Date(notBefore.getTime() + request.days * DAY_MS) };
}

/** The root: the base-system anchor. CA:TRUE with no path length limit; keyCertSign and cRLSign. */
export async function createRootCa(request: IssueRequest): Promise<KeyAndCertificate> {
  const keys = await generateKeys(request.algorithm ?? "ec-p256");
  const name = commonNameOnly(request.commonName);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    ...validity(request),
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey.algorithm.name === "ECDSA" ? "ec" : "rsa"),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: certificate.toString("pem") + "\n", privateKeyPem: await exportKeyPem(keys) };
}

/** A Name of one CN attribute; built as JSON so that commas or '=' in the name stay literal. */
function commonNameOnly(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

/**
 * RFC 5280 4.2.1.1: the AKI key identifier equals the issuer's subject key identifier; take it
 * from the issuer's certificate when present (a CA made by another tool may derive it otherwise).
 */
export async function authorityKeyIdentifier(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : x509.AuthorityKeyIdentifierExtension.create(issuer);
}

async function issue(issuer: Issuer, request: IssueRequest, extensions: x509.Extension[]): Promise<KeyAndCertificate> {
  const issuerCertificate = new x509.X509Certificate(issuer.certificatePem);
  const signing = await importSigningKey(issuer.privateKeyPem);
  const keys = await generateKeys(request.algorithm ?? "ec-p256");
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: commonNameOnly(request.commonName),
    // The issuer's Name as encoded in its certificate: RFC 5280 6.1.3 (a)(4) compares names, and OpenSSL compares the DER.
    issuer: issuerCertificate.subjectName,
    ...validity(request),
    publicKey: keys.publicKey,
    signingKey: signing.key,
    signingAlgorithm: signingAlgorithm(signing.type),
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await authorityKeyIdentifier(issuerCertificate),
    ],
  });
  return { certificatePem: certificate.toString("pem") + "\n", privateKeyPem: await exportKeyPem(keys) };
}

/** A developer or master intermediate CA (RFC 5280 4.2.1.9: pathLenConstraint limits CAs below it). */
export async function issueIntermediate(issuer: Issuer, request: IssueRequest & { readonly pathLength?: number }): Promise<KeyAndCertificate> {
  return issue(issuer, request, [
    new x509.BasicConstraintsExtension(true, request.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ]);
}

/**
 * A build-machine certificate as pkg_install's signer and verifier demand (domain.md
 * section 2): not a CA, extended key usage exactly codeSigning and emailProtection.
 */
export async function issueSigning(issuer: Issuer, request: IssueRequest): Promise<KeyAndCertificate> {
  return issue(issuer, request, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([CODE_SIGNING, EMAIL_PROTECTION], false),
  ]);
}
