import { createHash, X509Certificate } from "node:crypto";
import type { OwnedSettings } from "../config/pkg-install-conf.js";
import type { Certificate } from "../pki/certificate.js";

/** A stable, readable directory name for a repository: host and path, plus a hash against collisions. */
export function repositoryId(repository: URL): string {
  const readable = `${repository.host}${repository.pathname}`
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80);
  const digest = createHash("sha256").update(repository.href).digest("hex").slice(0, 10);
  return `${readable || "local"}-${digest}`;
}

/** PEM of each certificate once, in order: a bundle may repeat one, or carry the anchor itself. */
export function toPem(certificates: readonly Certificate[]): string {
  const seen = new Set<string>();
  return certificates
    .filter((certificate) => !seen.has(certificate.sha256) && seen.add(certificate.sha256))
    .map((certificate) => new X509Certificate(certificate.der).toString())
    .join("");
}

/**
 * Whether a CA, on its verified path (itself first, the anchor last), can issue a certificate
 * that pkg_install would accept: RFC 5280 4.2.1.9, every CA above it must allow the
 * non-self-issued intermediates below it, this CA counted. A CA under a pathLen:0 CA is valid
 * itself but issues nothing usable, so it is no trusted issuer.
 */
export function canIssue(path: readonly Certificate[]): boolean {
  let intermediates = 0;
  for (const [index, certificate] of path.entries()) {
    const limit = certificate.basicConstraints?.ca ? certificate.basicConstraints.pathLength : undefined;
    if (index > 0 && limit !== undefined && intermediates > limit) return false;
    if (!certificate.selfIssued) intermediates++;
  }
  return true;
}

/** A repository as pkg_install's PKG_PATH and pkgin want it: no trailing slash; a plain path for file: URLs. */
export function packagePath(repository: URL): string {
  const href = repository.protocol === "file:" ? decodeURIComponent(repository.pathname) : repository.href;
  return href.replace(/\/+$/, "");
}

/** pkgin takes URLs only, file: ones included (repositories.conf). */
export function pkginUrl(repository: URL): string {
  return repository.protocol === "file:" ? repository.href.replace(/\/+$/, "") : packagePath(repository);
}

export interface TrustFiles {
  readonly anchors: string;
  readonly chain: string;
}

/**
 * What pkg_install gets, chosen for OpenSSL 3.0 (domain.md section 2): it builds the
 * chain only from the certificates embedded in a signature plus CERTIFICATE_ANCHOR_PKGS,
 * and uses CERTIFICATE_CHAIN only to find the signer. So the verified intermediates go
 * into the anchor file beside the base anchor (a non-self-signed trusted certificate does
 * not end a chain, so every chain must still reach the base anchor), and the verified
 * signing certificates, with the intermediates, into the chain file. Newer OpenSSL, which
 * also takes CERTIFICATE_CHAIN as untrusted intermediates, reaches the same verdict.
 */
export function trustFiles(roots: readonly Certificate[], intermediates: readonly Certificate[], signers: readonly Certificate[]): TrustFiles {
  return { anchors: toPem([...roots, ...intermediates]), chain: toPem([...intermediates, ...signers]) };
}

export function ownedSettings(repository: URL, files: { anchors: string; chain: string }): OwnedSettings {
  return {
    VERIFIED_INSTALLATION: "always",
    CERTIFICATE_ANCHOR_PKGS: files.anchors,
    CERTIFICATE_CHAIN: files.chain,
    PKG_PATH: packagePath(repository),
  };
}
