import { PkgtrustError } from "../errors.js";
import { type Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import { readInput } from "./files.js";
import { OperatorError } from "./operator-errors.js";

export interface AnchorFile {
  readonly path: string;
  readonly certificates: readonly Certificate[];
  /** Only self-signed certificates end a chain (no partial chains, domain.md section 2). */
  readonly roots: readonly Certificate[];
}

/** Reads --anchor: the base system's root, which the bundle must chain to. */
export async function readAnchorFile(path: string, cwd: string): Promise<AnchorFile> {
  const text = await readInput(path, cwd, "BUNDLE_INPUT_UNREADABLE");
  let certificates: Certificate[];
  try {
    certificates = readCertificateFile(text, path).certificates;
  } catch (error) {
    if (error instanceof PkgtrustError) throw new OperatorError("BUNDLE_INPUT_UNREADABLE", error.message, { cause: error, detail: { file: path } });
    throw error;
  }
  const roots = certificates.filter((certificate) => certificate.selfSigned);
  if (roots.length === 0) throw new OperatorError("BUNDLE_ANCHOR_NO_ROOT", `${path} holds no self-signed CA certificate`, { detail: { file: path } });
  return { path, certificates, roots };
}
