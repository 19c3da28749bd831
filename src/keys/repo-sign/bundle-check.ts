import path from "node:path";
import { publishedFingerprints } from "../../trust/trust-files.js";
import type { SigningIdentity } from "./identity.js";

/**
 * pkgtrust's clients take the repository's signers from All/pkg_keys.pem: a bundle that
 * lacks the new certificate (or its chain) must be rebuilt before the re-signed packages
 * are published, or `pkgtrust refresh` users see packages from a signer they do not know.
 * The advice keeps the old bundle's contents, which still sign what is not re-signed yet.
 */
export async function bundleWarning(dir: string, identity: SigningIdentity, files: { anchor: string; cert: string; chain?: string }): Promise<string | undefined> {
  const bundlePath = path.join(dir, "pkg_keys.pem");
  const published = await publishedFingerprints(bundlePath);
  if (published === undefined) return undefined;
  if ("readError" in published) return `${bundlePath} cannot be read (${published.readError}): check that it holds the signing certificate and its chain`;
  const held = published.fingerprints;
  const missing = [identity.signer, ...identity.chain].filter((c) => !held.has(c.sha256));
  if (missing.length === 0) return undefined;
  const inputs = [bundlePath, ...(files.chain ? [files.chain] : []), files.cert].map((f) => `'${f}'`).join(" ");
  return `${bundlePath} does not hold ${missing.map((c) => c.subject).join(", ")}: publish a bundle with them before the re-signed packages, with 'pkgtrust bundle build --anchor '${files.anchor}' --out '${bundlePath}' ${inputs}'`;
}
