import type { TargetRoot } from "../config/target-root.js";
import type { Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import { BootstrapError } from "./errors.js";

export interface Anchor {
  readonly path: string;
  /** Every certificate of the file: pkg_install loads them all into its trust store. */
  readonly certificates: readonly Certificate[];
  /** The self-signed ones: only these end a chain (no partial chains, domain.md section 2). */
  readonly roots: readonly Certificate[];
}

/** Reads the base-system anchor file (a target path) without ever changing it. */
export async function loadAnchor(root: TargetRoot, anchorPath: string): Promise<Anchor> {
  const bytes = await root.readIfExists(anchorPath);
  if (bytes === undefined) {
    throw new BootstrapError("BOOT_ANCHOR_MISSING", `the anchor file ${anchorPath} does not exist`, { detail: { path: anchorPath } });
  }
  const { certificates } = readCertificateFile(bytes.toString("utf8"), anchorPath);
  const roots = certificates.filter((certificate) => certificate.selfSigned);
  if (roots.length === 0) {
    throw new BootstrapError("BOOT_ANCHOR_NO_ROOT", `the anchor file ${anchorPath} holds no self-signed CA certificate`, { detail: { path: anchorPath } });
  }
  return { path: anchorPath, certificates, roots };
}
