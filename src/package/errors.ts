import { EXIT, errorClass, type CodeTable } from "../errors.js";

/** Malformed input: verifyPackage throws these. */
const MALFORMED = {
  PKG_UNREADABLE: { exit: EXIT.INPUT, next: "Check the file's path and permissions." },
  PKG_NOT_AR: { exit: EXIT.INPUT, next: "Check that the file is a pkgsrc binary package (a signed one is an ar archive)." },
  PKG_AR_FORMAT: { exit: EXIT.INPUT, next: "The package archive is damaged: download it again." },
  PKG_TRUNCATED: { exit: EXIT.INPUT, next: "The package ends early: download it again." },
  PKG_MEMBER_TOO_LARGE: { exit: EXIT.INPUT, next: "The package's signature members are implausibly large: do not install it." },
  PKG_HASH_FORMAT: { exit: EXIT.INPUT, next: "The +PKG_HASH member is not in pkg_install's format: the package was damaged or not made by pkg_admin gpg-sign-package/sign-package." },
  PKG_SIGNATURE_FORMAT: { exit: EXIT.INPUT, next: "The +PKG_SIGNATURE member is not a PEM PKCS#7 detached signature: sign the package again." },
  PKG_UNSUPPORTED_ALGORITHM: { exit: EXIT.INPUT, next: "Sign the package with an RSA or ECDSA key and SHA-256 or stronger." },
  PKG_INNER_FORMAT: { exit: EXIT.INPUT, next: "The inner package is not a tar (plain, or gzip, bzip2, xz, zstd or LZMA-alone compressed) starting with +CONTENTS: rebuild it with pkg_create." },
  PKG_CONTENTS_TOO_LARGE: { exit: EXIT.INPUT, next: "The package's +CONTENTS is implausibly large or buried under megabytes of data (a decompression bomb): do not install it." },
  PKG_INNER_TOO_LARGE: { exit: EXIT.INPUT, next: "The inner package unpacks to implausibly many bytes (a decompression bomb): do not install it." },
  PKG_INNER_COMPRESSION: { exit: EXIT.INPUT, next: "The inner package uses a compression pkgsrc does not make (pkgtrust reads gzip, bzip2, xz, zstd, LZMA-alone and none): rebuild it with PKG_COMPRESSION=gzip, bzip2 or xz." },
  PKG_CONFIG_MISSING: { exit: EXIT.INPUT, next: "Set CERTIFICATE_ANCHOR_PKGS in pkg_install.conf, or pass --anchor." },
} as const satisfies CodeTable;

/**
 * Negative verdicts about a well-formed package: verifyPackage returns them as
 * `trusted: false` with the code; only the CLI turns that into an exit status.
 */
const REFUSALS = {
  PKG_UNSIGNED: { exit: EXIT.UNTRUSTED, next: "Ask the repository for signed packages, or sign it with 'pkgtrust sign-package'." },
  PKG_GPG_SIGNED: { exit: EXIT.UNTRUSTED, next: "This package carries an OpenPGP signature: verify it with GPG_KEYRING_VERIFY, pkgtrust checks X.509 signatures only." },
  PKG_BAD_SIGNATURE: { exit: EXIT.UNTRUSTED, next: "The signature does not match +PKG_HASH: the package was altered or signed with another key; do not install it." },
  PKG_SIGNER_NOT_FOUND: { exit: EXIT.UNTRUSTED, next: "Embed the signing certificate in the signature (pkg_install finds signers there), or list it in CERTIFICATE_CHAIN." },
  PKG_SIGNER_NOT_EMBEDDED: { exit: EXIT.UNTRUSTED, next: "Sign the package again so that the signature embeds the signing certificate: pkg_install looks for signers only there." },
  PKG_BLOCK_MISMATCH: { exit: EXIT.UNTRUSTED, next: "The package content differs from what was signed: do not install it; download it again." },
  PKG_SIZE_MISMATCH: { exit: EXIT.UNTRUSTED, next: "The package size differs from what was signed: do not install it; download it again." },
  PKG_LAST_BLOCK_BUG: { exit: EXIT.UNTRUSTED, next: "pkg_install cannot verify a package whose size is a multiple of the block size: rebuild it (see docs/pkg_install-notes.md)." },
  PKG_NAME_MISMATCH: { exit: EXIT.UNTRUSTED, next: "The signed package name differs from the package's @name: do not install it." },
} as const satisfies CodeTable;

/** Errors of signed-package reading and verification. */
export const PackageError = errorClass("PackageError", { ...MALFORMED, ...REFUSALS });
export type PackageError = InstanceType<typeof PackageError>;
export type PackageRefusalCode = keyof typeof REFUSALS;

/** Whether the error is a verdict about the package (a refusal) rather than unreadable input. */
export function isRefusal(error: PackageError): error is PackageError & { readonly code: PackageRefusalCode } {
  return Object.hasOwn(REFUSALS, error.code);
}
