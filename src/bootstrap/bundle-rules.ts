import { chainsToForeignRoot } from "../bundle/foreign-root.js";
import type { BundleVerdict } from "../bundle/verify.js";
import type { Anchor } from "./anchor.js";
import { BootstrapError } from "./errors.js";

/** Key bundles are small; anything larger is refused unread (TUF endless-data attack). */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/**
 * The rules a client applies to a verified bundle as a whole, shared by setup, refresh and
 * `bundle lint`: one certificate from another root distrusts the whole repository, and a
 * bundle without a valid build certificate cannot verify any package.
 */
export function requireUsableBundle(verdict: BundleVerdict, anchor: Pick<Anchor, "path" | "roots">): void {
  const foreign = verdict.certificates.find((entry) => chainsToForeignRoot(entry, anchor.roots));
  if (foreign) {
    throw new BootstrapError("BOOT_FOREIGN_ROOT", `${foreign.certificate.subject} in the key bundle chains to a root that is not in ${anchor.path}`, {
      detail: { subject: foreign.certificate.subject, sha256: foreign.certificate.sha256 },
    });
  }
  if (!verdict.certificates.some((entry) => entry.status === "valid" && entry.role === "signing")) {
    throw new BootstrapError("BOOT_NO_SIGNING_CERT", `the key bundle holds no valid build certificate that chains to ${anchor.path}`, {
      detail: { anchor: anchor.path },
    });
  }
}
