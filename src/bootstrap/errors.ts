import { EXIT, errorClass } from "../errors.js";

export const BootstrapError = errorClass("BootstrapError", {
  BOOT_NEEDS_REPOSITORY: { exit: EXIT.USAGE, next: "Pass --repo URL (no prompt is shown without a terminal or with --non-interactive)." },
  BOOT_ANCHOR_MISSING: { exit: EXIT.CONFIG, next: "Install the base-system anchor, or name it with --anchor FILE." },
  BOOT_ANCHOR_NO_ROOT: { exit: EXIT.INPUT, next: "The anchor file must hold the self-signed pkgsrc CA certificate; check --anchor." },
  BOOT_NO_SIGNING_CERT: { exit: EXIT.UNTRUSTED, next: "Is the repository URL right? Its key bundle has no build certificate that chains to the anchor." },
  BOOT_FOREIGN_ROOT: { exit: EXIT.UNTRUSTED, next: "Do not use this repository: its key bundle chains to a root other than the base-system anchor." },
  SETUP_DEADLINE: { exit: EXIT.FETCH, next: "The whole run took longer than its deadline (the servers are too slow): try another mirror, or a longer --deadline." },
  BOOT_CANCELLED: { exit: EXIT.INTERRUPTED, next: "Nothing was changed; run the command again when you are ready." },
  BOOT_DECLINED: { exit: EXIT.USAGE, next: "Nothing was changed; run pkgtrust setup again to choose a repository." },
  BOOT_TEST_INSTALL_FAILED: { exit: EXIT.UNTRUSTED, next: "The configuration was rolled back; tell the repository's operators that this package does not verify." },
  BOOT_PKG_ADD_FAILED: { exit: EXIT.UNTRUSTED, next: "The configuration was rolled back; run the pkg_add command shown by hand to see its complaint." },
  BOOT_ROLLBACK: { exit: EXIT.STALE, next: "The repository serves an older key bundle than the one accepted before: use another mirror or wait for it to catch up." },
  BOOT_CRL_NOT_YET_VALID: { exit: EXIT.UNTRUSTED, next: "The repository's revocation list is dated in the future: check this system's clock (date), then run pkgtrust again." },
  BOOT_STALE_CRL: { exit: EXIT.STALE, next: "The repository's revocation list has expired: use another mirror or ask its operators to publish a fresh bundle." },
});
