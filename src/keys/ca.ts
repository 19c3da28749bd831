import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { type Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import { PkgtrustError } from "../errors.js";
import { readInput } from "./files.js";
import { OperatorError } from "./operator-errors.js";

/** A CA certificate with its private key, checked to be usable for issuing. */
export interface LoadedCa {
  readonly certificate: Certificate;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

function readKey(pem: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new OperatorError("KEYS_KEY_UNREADABLE", `${path} is not a readable unencrypted private key: ${(error as Error).message}`, { cause: error, detail: { file: path } });
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (!(key.asymmetricKeyType === "rsa" || (key.asymmetricKeyType === "ec" && curve === "prime256v1"))) {
    throw new OperatorError("KEYS_KEY_UNREADABLE", `${path} holds a ${key.asymmetricKeyType ?? "unknown"}${curve ? ` ${curve}` : ""} key; pkgtrust signs with EC P-256 or RSA keys only`, { detail: { file: path } });
  }
  return key;
}

function readCaCertificate(text: string, path: string): Certificate {
  let certificates: Certificate[];
  try {
    certificates = readCertificateFile(text, path).certificates;
  } catch (error) {
    if (error instanceof PkgtrustError) throw new OperatorError("KEYS_INPUT_UNREADABLE", error.message, { cause: error, detail: { file: path } });
    throw error;
  }
  const [certificate] = certificates;
  if (!certificate || certificates.length !== 1) {
    throw new OperatorError("KEYS_CA_CERT_COUNT", `${path} holds ${certificates.length} certificates, not exactly one`, { detail: { file: path } });
  }
  return certificate;
}

/**
 * Loads --ca-cert and --ca-key and refuses a pair that cannot issue anything clients accept:
 * OpenSSL's check_chain_extensions wants basicConstraints CA:TRUE on every issuer, and
 * RFC 5280 4.2.1.3 keyCertSign when keyUsage is present; the key must be the certificate's
 * (X509_check_private_key); and a CA outside its validity issues certificates that fail.
 */
export async function loadCa(paths: { cert: string; key: string }, cwd: string, now: Date): Promise<LoadedCa> {
  const certificatePem = await readInput(paths.cert, cwd);
  const privateKeyPem = await readInput(paths.key, cwd);
  const certificate = readCaCertificate(certificatePem, paths.cert);
  const key = readKey(privateKeyPem, paths.key);
  if (certificate.caLevel !== 1 || (certificate.keyUsage && !certificate.keyUsage.includes("keyCertSign"))) {
    throw new OperatorError("KEYS_NOT_A_CA", `${certificate.subject} (${paths.cert}) is not a CA certificate with basicConstraints CA:TRUE and keyCertSign`, {
      detail: { file: paths.cert, subject: certificate.subject },
    });
  }
  const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
  const fromCert = certificate.openssl.publicKey.export({ type: "spki", format: "der" });
  if (!fromKey.equals(fromCert)) {
    throw new OperatorError("KEYS_KEY_MISMATCH", `${paths.key} is not the private key of ${certificate.subject} (${paths.cert})`, { detail: { cert: paths.cert, key: paths.key } });
  }
  // RFC 5280 4.1.2.5: validity bounds are inclusive.
  if (now.getTime() < certificate.notBefore.getTime() || now.getTime() > certificate.notAfter.getTime()) {
    throw new OperatorError("KEYS_CA_NOT_VALID_NOW", `${certificate.subject} is valid only from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`, {
      detail: { subject: certificate.subject, notBefore: certificate.notBefore.toISOString(), notAfter: certificate.notAfter.toISOString() },
    });
  }
  return { certificate, certificatePem, privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString() };
}
