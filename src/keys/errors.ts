import { EXIT, errorClass } from "../errors.js";

/** Errors of the package signer: refusals follow pkg_install's own signer (lib/pkcs7.c easy_pkcs7_sign). */
export const SigningError = errorClass("SigningError", {
  SIGN_KEY_READ: { exit: EXIT.INPUT, next: "Give --key a PEM private key (PKCS#8 or traditional), not encrypted." },
  SIGN_CERT_COUNT: { exit: EXIT.INPUT, next: "Give --cert a file with exactly one certificate, the signing one; put CA certificates in --chain." },
  KEY_CERT_MISMATCH: { exit: EXIT.INPUT, next: "The private key does not belong to the certificate: pass the matching pair." },
  SIGNER_IS_CA: { exit: EXIT.INPUT, next: "Sign with a build certificate (CA:FALSE, no keyCertSign), not a CA certificate." },
  SIGNER_WRONG_EKU: { exit: EXIT.INPUT, next: "pkg_install only accepts signers whose extended key usage is exactly codeSigning + emailProtection: reissue the certificate." },
  SIGN_INPUT_CHANGED: { exit: EXIT.INPUT, next: "The package changed while it was being signed: sign it again once it is complete." },
  SIGN_IO: { exit: EXIT.INPUT, next: "Check that the input package is readable and the output directory writable." },
});
export type SigningError = InstanceType<typeof SigningError>;
