import { EXIT, errorClass } from "../errors.js";
import { SUMMARY_CODES } from "../package/pkg-summary-errors.js";

/** Failures about the repository itself: its URL, its pkg_summary, the package to test-install. */
export const RepositoryError = errorClass("RepositoryError", {
  ...SUMMARY_CODES,
  REPO_BAD_URL: { exit: EXIT.USAGE, next: "Give the repository as an http://, https:// or file:// URL, or as an absolute path." },
  REPO_UNSAFE_CHARACTER: { exit: EXIT.USAGE, next: "Give the repository without control characters or ';' (rename its directory if need be): pkg_install.conf is line-based and splits PKG_PATH at ';'." },
  REPO_SUMMARY_MISSING: { exit: EXIT.FETCH, next: "Check the repository URL: it should be the directory holding the packages and pkg_summary.gz (usually .../All)." },
  REPO_SUMMARY_TOO_LARGE: { exit: EXIT.FETCH, next: "Check the repository URL: its pkg_summary is far larger than any real one." },
});
