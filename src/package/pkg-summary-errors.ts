import { EXIT, errorClass, type CodeTable } from "../errors.js";

/**
 * A pkg_summary(5) that cannot be used: read by setup's test-install and rewritten by repo
 * sign. Setup reports them as RepositoryError (bootstrap/repository-errors.ts takes them over).
 */
export const SUMMARY_CODES = {
  REPO_SUMMARY_MALFORMED: { exit: EXIT.INPUT, next: "The repository's pkg_summary is corrupt: tell its operators, or name a package with --test-package." },
  REPO_SUMMARY_EMPTY: { exit: EXIT.INPUT, next: "The repository's pkg_summary lists no package: check the repository URL." },
  REPO_PACKAGE_NOT_FOUND: { exit: EXIT.USAGE, next: "Name a package the repository has with --test-package (see its pkg_summary)." },
} as const satisfies CodeTable;

export const SummaryError = errorClass("SummaryError", SUMMARY_CODES);
