import { EXIT, errorClass, type CodeTable } from "../errors.js";

/**
 * The failures of trust material itself: an anchor file that is missing or holds no root, a
 * key bundle the clients' rules refuse. Setup and refresh report them under these codes
 * (bootstrap/errors.ts takes the table over), `bundle lint` and `repo sign` as findings.
 */
export const CLIENT_TRUST_CODES = {
  BOOT_ANCHOR_MISSING: { exit: EXIT.CONFIG, next: "The base-system anchor comes with the base sets: extract them from the install medium (or get it from the release), or name it with --anchor FILE." },
  BOOT_ANCHOR_NO_ROOT: { exit: EXIT.INPUT, next: "The anchor file must hold the self-signed pkgsrc CA certificate; check --anchor." },
  BOOT_NO_SIGNING_CERT: { exit: EXIT.UNTRUSTED, next: "Is the repository URL right? Its key bundle has no build certificate that chains to the anchor." },
  BOOT_FOREIGN_ROOT: { exit: EXIT.UNTRUSTED, next: "Do not use this repository: its key bundle chains to a root other than the base-system anchor." },
  BOOT_CRL_NOT_YET_VALID: { exit: EXIT.UNTRUSTED, next: "The repository's revocation list is dated in the future: check this system's clock (date), then run pkgtrust again." },
  BOOT_STALE_CRL: { exit: EXIT.STALE, next: "The repository's revocation list has expired: use another mirror or ask its operators to publish a fresh bundle." },
} as const satisfies CodeTable;

export const TRUST_CODES = {
  ...CLIENT_TRUST_CODES,
  /** An operator's --anchor (bundle build, bundle lint, repo sign) without a root. */
  BUNDLE_ANCHOR_NO_ROOT: { exit: EXIT.INPUT, next: "Give --anchor the base system's root certificate (self-signed), as 'pkgtrust keys init-ca' wrote it." },
} as const satisfies CodeTable;

export const TrustError = errorClass("TrustError", TRUST_CODES);
export type TrustError = InstanceType<typeof TrustError>;
