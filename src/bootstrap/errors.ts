import { EXIT, errorClass } from "../errors.js";
import { CLIENT_TRUST_CODES } from "../trust/errors.js";

/** Setup's and refresh's own failures, and the trust rules' (src/trust/errors.ts) under the same codes. */
export const BootstrapError = errorClass("BootstrapError", {
  ...CLIENT_TRUST_CODES,
  BOOT_NEEDS_REPOSITORY: { exit: EXIT.USAGE, next: "Pass --repo URL (no prompt is shown without a terminal or with --non-interactive)." },
  BOOT_NO_KEY_BUNDLE: { exit: EXIT.UNTRUSTED, next: "Choose another repository, one that publishes pkg_keys.pem, or go on without binary packages; never install them unverified." },
  BOOT_BUNDLE_NOT_SERVED: { exit: EXIT.FETCH, next: "The network or the mirror served something else: if this network needs a log-in (a captive portal), log in and retry; else try another mirror." },
  BOOT_BUNDLE_DAMAGED_FILE: { exit: EXIT.INPUT, next: "The pkg_keys.pem in this directory is damaged: if it is on the install medium, the medium may be; copy it again or use a network repository." },
  SETUP_DEADLINE: { exit: EXIT.FETCH, next: "The whole run took longer than its deadline (the servers are too slow): try another mirror, or a longer --deadline." },
  BOOT_CANCELLED: { exit: EXIT.INTERRUPTED, next: "Nothing was changed; run the command again when you are ready." },
  BOOT_DECLINED: { exit: EXIT.USAGE, next: "Nothing was changed; run pkgtrust setup again to choose a repository." },
  BOOT_TEST_INSTALL_FAILED: { exit: EXIT.UNTRUSTED, next: "The configuration was rolled back; tell the repository's operators that this package does not verify." },
  BOOT_PKG_ADD_FAILED: { exit: EXIT.UNTRUSTED, next: "The configuration was rolled back; run the pkg_add command shown by hand to see its complaint." },
  BOOT_ROLLBACK: { exit: EXIT.STALE, next: "The repository serves an older key bundle than the one accepted before: use another mirror or wait for it to catch up." },
});
