/**
 * Certificate and CRL files as trust material: the files under the target root that
 * pkg_install trusts (read confined to the root, TargetRoot.readIfExists), and the ones an
 * operator or a user names on the command line (relative to the working directory, capped
 * by input-file.ts). Parsing is src/pki's and src/bundle's; reading is here.
 */
import { readFile } from "node:fs/promises";
import type { TargetRoot } from "../config/target-root.js";
import { readInputText, type Unreadable } from "../input-file.js";
import { readBundle, type Bundle } from "../bundle/read.js";
import type { Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import type { Crl } from "../pki/crl.js";
import type { VerificationCache } from "../pki/verification-cache.js";

export interface TrustFile {
  /** The file as read, for digests. */
  readonly bytes: Buffer;
  readonly certificates: Certificate[];
  readonly crls: Crl[];
}

/** A PEM file of certificates and CRLs under the target root; undefined when it does not exist. PEM_* errors when it is damaged. */
export async function readTrustFile(root: TargetRoot, targetPath: string, cache?: VerificationCache): Promise<TrustFile | undefined> {
  const bytes = await root.readIfExists(targetPath);
  if (bytes === undefined) return undefined;
  return { bytes, ...readCertificateFile(bytes.toString("utf8"), targetPath, cache) };
}

/** A PEM file of certificates and CRLs named on the command line; the caller's `unreadable` error when it cannot be read. */
export async function readCertificateInput(path: string, cwd: string, unreadable: Unreadable): Promise<{ certificates: Certificate[]; crls: Crl[] }> {
  return readCertificateFile(await readInputText(path, cwd, unreadable), path);
}

/** Several such files, their certificates and CRLs in order (bundle build's inputs). */
export async function readCertificateInputs(paths: readonly string[], cwd: string, unreadable: Unreadable): Promise<{ certificates: Certificate[]; crls: Crl[] }> {
  const certificates: Certificate[] = [];
  const crls: Crl[] = [];
  for (const path of paths) {
    const read = await readCertificateInput(path, cwd, unreadable);
    certificates.push(...read.certificates);
    crls.push(...read.crls);
  }
  return { certificates, crls };
}

/** A key bundle (or an anchor file read as one) named on the command line: readBundle's rules (a certificate at least, a capped count). */
export async function readBundleInput(path: string, cwd: string, unreadable: Unreadable): Promise<Bundle> {
  return readBundle(await readInputText(path, cwd, unreadable), path);
}

/**
 * The certificates a repository publishes in its pkg_keys.pem (repo sign's check that the
 * bundle holds its signer): undefined when there is none; `readError` (the errno code) when it
 * cannot be read; no fingerprints when it is damaged, since clients could use none of it.
 */
export async function publishedFingerprints(bundlePath: string): Promise<{ readonly fingerprints: ReadonlySet<string> } | { readonly readError: string } | undefined> {
  let text: string;
  try {
    text = await readFile(bundlePath, "latin1");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { readError: (error as NodeJS.ErrnoException).code ?? "error" };
  }
  try {
    return { fingerprints: new Set(readCertificateFile(text, bundlePath).certificates.map((c) => c.sha256)) };
  } catch {
    return { fingerprints: new Set() };
  }
}
