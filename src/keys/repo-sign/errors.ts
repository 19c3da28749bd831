import { EXIT, errorClass } from "../../errors.js";

/**
 * Errors of `pkgtrust repo sign`. The run-level ones are thrown before anything is
 * written; the per-package ones (REPO_PKG_*) are reported for one package while the rest
 * go on, and set the exit status at the end (the highest of the failures' statuses).
 */
export const RepoSignError = errorClass("RepoSignError", {
  REPO_DIR_UNREADABLE: { exit: EXIT.INPUT, next: "Give the repository's All directory, which must exist and be readable." },
  REPO_FILES_LIST: { exit: EXIT.INPUT, next: "--files names a file of package file names in DIR, one a line, without '/'." },
  REPO_SIGNER_EXPIRED: { exit: EXIT.INPUT, next: "The signing certificate or a certificate of its chain is expired or not yet valid: issue a new one ('pkgtrust keys issue-signing')." },
  REPO_SIGNER_EXPIRES_SOON: { exit: EXIT.INPUT, next: "A certificate of the signing chain expires within --min-days: sign with a renewed certificate, or lower --min-days knowingly." },
  REPO_SIGNER_NOT_CHAINED: { exit: EXIT.INPUT, next: "The signing certificate does not chain to --anchor through --chain as pkg_install would build it: pass the intermediate CA in --chain." },
  REPO_TOOL_MISSING: { exit: EXIT.CONFIG, next: "Install the compressor named in the message (NetBSD's base system has bzip2 and xz), or remove that pkg_summary variant." },
  REPO_SUMMARY_UNREADABLE: { exit: EXIT.INPUT, next: "The repository's pkg_summary cannot be read or is damaged: regenerate it with 'pkg_info -X', then run again." },
  REPO_SUMMARY_CKSUM: { exit: EXIT.INPUT, next: "pkg_summary has a FILE_CKSUM whose algorithm pkgtrust does not know: regenerate it with sha512, sha256 or sha1." },
  REPO_SUMMARY_WRITE: { exit: EXIT.CONFIG, next: "The summary could not be replaced (the old one is intact): free space or fix permissions, then run again with --summary-only." },
  REPO_PKG_UNREADABLE: { exit: EXIT.INPUT, next: "Check the package file's permissions; it was left as it is." },
  REPO_PKG_NOT_REGULAR: { exit: EXIT.INPUT, next: "Only regular files are signed: replace the link or special file by the package itself." },
  REPO_PKG_SYMLINK_OUTSIDE: { exit: EXIT.INPUT, next: "A symlink in DIR leads out of it and is never followed: sign its target where it lives, or replace the link by the file." },
  REPO_PKG_FILE_NAME: { exit: EXIT.UNTRUSTED, next: "The package's @name does not match its file name: a package was renamed or swapped; rebuild it or give it its own name." },
  REPO_PKG_CHANGED: { exit: EXIT.INPUT, next: "The package changed while it was being signed: run again once nothing writes to the repository." },
  REPO_PKG_WRITE: { exit: EXIT.CONFIG, next: "The package could not be replaced (it is intact): free space, lift the read-only flag or mount, then run again." },
});
export type RepoSignError = InstanceType<typeof RepoSignError>;
export type RepoSignCode = RepoSignError["code"];
