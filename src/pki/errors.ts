import { EXIT, errorClass } from "../errors.js";

const bad = (next: string) => ({ exit: EXIT.INPUT, next }) as const;
const untrusted = (next: string) => ({ exit: EXIT.UNTRUSTED, next }) as const;

/** Errors of PEM reading (malformed input, exit 3) and certificate verdicts (untrusted, exit 1). */
export const CertificateError = errorClass("CertificateError", {
  INPUT_UNREADABLE: bad("Check the file's path and permissions."),
  PEM_EMPTY: bad("Check that the file is a PEM file holding CERTIFICATE blocks."),
  PEM_BAD_BASE64: bad("The block's base64 is damaged: fetch the file again or ask its publisher."),
  PEM_TRUNCATED: bad("A PEM block has no matching END line: the file is cut short; fetch it again."),
  PEM_UNEXPECTED_BLOCK: bad("Remove the block: only CERTIFICATE and X509 CRL blocks belong in this file (never a private key)."),
  PEM_BAD_DER: bad("The block is not a valid certificate or CRL: fetch the file again or ask its publisher."),
  CERT_NO_ISSUER: untrusted("The issuer certificate is missing: add the intermediate CA to the bundle or check the anchor file."),
  CERT_UNTRUSTED_ROOT: untrusted("The chain ends at a root that is not in the anchor file: check that the bundle belongs to this repository."),
  CERT_EXPIRED: untrusted("A certificate on the path has expired: the repository must publish a renewed bundle."),
  CERT_NOT_YET_VALID: untrusted("A certificate on the path is not valid yet: check the system clock."),
  CERT_ISSUER_NOT_CA: untrusted("An issuer on the path is not a CA (basicConstraints/keyUsage): the bundle is misissued."),
  CERT_PATH_LENGTH: untrusted("A CA's pathLenConstraint is exceeded: the bundle's hierarchy is too deep for its CAs."),
  CERT_PATH_TOO_LONG: untrusted("The chain is longer than pkgtrust searches: the bundle's hierarchy is too deep."),
  CERT_SEARCH_LIMIT: untrusted("The certificates make the path search exceed its work limit: the key bundle or signature is malformed or hostile; ask its publisher to fix it."),
  CERT_UNKNOWN_CRITICAL_EXTENSION: untrusted("A certificate carries a critical extension no verifier understands: it must be reissued."),
  CERT_INVALID_EXTENSION: untrusted("A certificate carries one of its extensions twice, which OpenSSL (and so pkg_install) takes as an invalid certificate: it must be reissued."),
  CERT_NAME_CONSTRAINTS: untrusted("A certificate's names break the name constraints of a CA above it: it was issued outside that CA's remit."),
  CERT_WEAK_ALGORITHM: untrusted("A certificate uses MD5/SHA-1 or an RSA key under 2048 bits; pkg_install accepts it but pkgtrust refuses it unless --allow-weak."),
  CERT_BAD_SIGNATURE: untrusted("A certificate's signature does not verify with its issuer's key: the bundle is forged or corrupt."),
  CERT_REVOKED: untrusted("A certificate on the path is revoked by a CRL in the bundle: the repository must publish a new signing certificate."),
  CERT_WRONG_PURPOSE: untrusted("A certificate on the path may not be used for signing packages (S/MIME signing purpose)."),
  CERT_NOT_PACKAGE_SIGNER: untrusted("pkg_install only accepts a non-CA signer with extended key usage exactly codeSigning + emailProtection."),
  CRL_NO_ISSUER: untrusted("The CRL's issuer is not a valid CA of the bundle or anchor file: the bundle is inconsistent."),
  CRL_BAD_SIGNATURE: untrusted("A CRL in the bundle does not verify with its issuer's key: the bundle is forged or corrupt."),
  CRL_ISSUER_NOT_CRL_SIGNER: untrusted("The CRL issuer's keyUsage lacks cRLSign: the CRL cannot be trusted."),
});
export type CertificateError = InstanceType<typeof CertificateError>;
export type CertificateErrorCode = CertificateError["code"];
