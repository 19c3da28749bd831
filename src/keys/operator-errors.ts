import { EXIT, errorClass } from "../errors.js";

/** Errors of the operator commands (pkgtrust keys ..., pkgtrust bundle ...). */
export const OperatorError = errorClass("OperatorError", {
  KEYS_OUTPUT_EXISTS: { exit: EXIT.USAGE, next: "Choose another output path or move the existing file away: pkgtrust never overwrites keys or certificates." },
  KEYS_WRITE_FAILED: { exit: EXIT.CONFIG, next: "Check that the output directory exists and is writable." },
  KEYS_INPUT_UNREADABLE: { exit: EXIT.INPUT, next: "Check the file name and its permissions." },
  KEYS_CA_CERT_COUNT: { exit: EXIT.INPUT, next: "Give --ca-cert a file holding exactly one certificate, the issuing CA's." },
  KEYS_KEY_UNREADABLE: { exit: EXIT.INPUT, next: "Give --ca-key the CA's unencrypted PEM private key (EC P-256 or RSA)." },
  KEYS_KEY_MISMATCH: { exit: EXIT.INPUT, next: "The private key does not belong to the CA certificate: pass the matching pair." },
  KEYS_NOT_A_CA: { exit: EXIT.INPUT, next: "Issue and revoke with a CA certificate (basicConstraints CA:TRUE, keyCertSign), made by 'pkgtrust keys init-ca' or 'issue-intermediate'." },
  KEYS_CA_NOT_CRL_SIGNER: { exit: EXIT.INPUT, next: "This CA's keyUsage lacks cRLSign, so clients would refuse its CRL: reissue the CA with cRLSign." },
  KEYS_CA_PATH_LENGTH: { exit: EXIT.INPUT, next: "The CA's path length forbids CAs below it: reissue it with a larger --path-length, or issue from the CA above." },
  KEYS_CA_NOT_VALID_NOW: { exit: EXIT.INPUT, next: "The issuing CA is expired or not yet valid: anything it issues now would not verify." },
  KEYS_BAD_SERIAL: { exit: EXIT.USAGE, next: "Give --serial as hexadecimal, as 'openssl x509 -noout -serial' prints it (0x prefix and colons allowed)." },
  KEYS_CRL_FOREIGN: { exit: EXIT.INPUT, next: "The existing CRL was not issued by this CA: name this CA's own CRL with --crl." },
  KEYS_CRL_UNREADABLE: { exit: EXIT.INPUT, next: "The existing CRL file is not a PEM X509 CRL: check --crl." },
  BUNDLE_INPUT_UNREADABLE: { exit: EXIT.INPUT, next: "Check the file names and permissions of the inputs." },
  BUNDLE_WRITE_FAILED: { exit: EXIT.CONFIG, next: "Check that the output directory exists and is writable." },
});
export type OperatorError = InstanceType<typeof OperatorError>;
