/**
 * The base-system anchor file (CERTIFICATE_ANCHOR_PKGS's base certificate): read by setup,
 * refresh and the CLI's preflight from the target root, and by the operator tools (bundle
 * build, bundle lint, repo sign) from the --anchor file named on their command line.
 */
import type { TargetRoot } from "../config/target-root.js";
import { PkgtrustError } from "../errors.js";
import { readInputText, type Unreadable } from "../input-file.js";
import type { Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import type { VerificationCache } from "../pki/verification-cache.js";
import { TrustError } from "./errors.js";

export interface Anchor {
  readonly path: string;
  /** Every certificate of the file: pkg_install loads them all into its trust store. */
  readonly certificates: readonly Certificate[];
  /** The self-signed ones: only these end a chain (no partial chains, domain.md section 2). */
  readonly roots: readonly Certificate[];
}

/** The anchor in a file's text; `roots` may be empty, which each reader refuses with its own code. */
function anchorIn(text: string, path: string, cache?: VerificationCache): Anchor {
  const { certificates } = readCertificateFile(text, path, cache);
  return { path, certificates, roots: certificates.filter((certificate) => certificate.selfSigned) };
}

/** Reads the base-system anchor file (a target path, confined to the root) without ever changing it. */
export async function loadAnchor(root: TargetRoot, anchorPath: string, cache?: VerificationCache): Promise<Anchor> {
  const bytes = await root.readIfExists(anchorPath);
  if (bytes === undefined) {
    throw new TrustError("BOOT_ANCHOR_MISSING", `the anchor file ${anchorPath} does not exist`, { detail: { path: anchorPath } });
  }
  const anchor = anchorIn(bytes.toString("utf8"), anchorPath, cache);
  if (anchor.roots.length === 0) {
    throw new TrustError("BOOT_ANCHOR_NO_ROOT", `the anchor file ${anchorPath} holds no self-signed CA certificate`, { detail: { path: anchorPath } });
  }
  return anchor;
}

/**
 * Reads an operator's --anchor (relative to the working directory): the base system's root,
 * which the bundle must chain to. A file that cannot be read or parsed fails with the
 * caller's `unreadable` error; one without a self-signed certificate with BUNDLE_ANCHOR_NO_ROOT.
 */
export async function readAnchorFile(path: string, cwd: string, unreadable: Unreadable): Promise<Anchor> {
  const text = await readInputText(path, cwd, unreadable);
  let anchor: Anchor;
  try {
    anchor = anchorIn(text, path);
  } catch (error) {
    if (error instanceof PkgtrustError) throw unreadable(error.message, { cause: error, detail: { file: path } });
    throw error;
  }
  if (anchor.roots.length === 0) throw new TrustError("BUNDLE_ANCHOR_NO_ROOT", `${path} holds no self-signed CA certificate`, { detail: { file: path } });
  return anchor;
}
