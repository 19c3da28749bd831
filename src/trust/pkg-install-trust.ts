/**
 * The trust a pkg_install.conf gives pkg_install: CERTIFICATE_ANCHOR_PKGS and
 * CERTIFICATE_CHAIN, read as pkg_install reads them. Used by setup's test-install (the
 * configuration just written, under the target root) and by `verify-package --config`.
 */
import { readSettings } from "../config/pkg-install-conf.js";
import type { TargetRoot } from "../config/target-root.js";
import { PkgtrustError } from "../errors.js";
import { readInputText, type Unreadable } from "../input-file.js";
import { PackageError } from "../package/errors.js";
import type { PackageTrust } from "../package/verdict.js";
import type { Certificate } from "../pki/certificate.js";
import type { VerificationCache } from "../pki/verification-cache.js";
import { readCertificateInput, readTrustFile } from "./trust-files.js";

export interface ConfiguredTrust {
  /** VERIFIED_INSTALLATION=always: pkg_install refuses unsigned packages. */
  readonly verifiedInstallation: boolean;
  /** CERTIFICATE_ANCHOR_PKGS; absent when unset or empty. */
  readonly anchor?: string;
  /** CERTIFICATE_CHAIN; absent when unset or empty. */
  readonly chain?: string;
}

/** What a pkg_install.conf's text names as trust. */
export function configuredTrust(configText: string): ConfiguredTrust {
  const settings = readSettings(configText);
  const anchor = settings.get("CERTIFICATE_ANCHOR_PKGS") || undefined;
  const chain = settings.get("CERTIFICATE_CHAIN") || undefined;
  return { verifiedInstallation: settings.get("VERIFIED_INSTALLATION") === "always", ...(anchor === undefined ? {} : { anchor }), ...(chain === undefined ? {} : { chain }) };
}

/** The trust, or why the configuration gives none: the caller words the failure. */
export type WrittenTrust = { readonly ok: true; readonly trust: PackageTrust } | { readonly ok: false; readonly reason: string };

/** The trust pkg_install will use, read back from a configuration just written under the target root. */
export async function writtenTrust(root: TargetRoot, configPath: string, cache?: VerificationCache): Promise<WrittenTrust> {
  const configured = configuredTrust((await root.readIfExists(configPath))?.toString("utf8") ?? "");
  if (!configured.verifiedInstallation) return { ok: false, reason: `${configPath} does not say VERIFIED_INSTALLATION=always` };
  const anchors = await readTarget(root, configured.anchor, cache);
  if (!Array.isArray(anchors)) return anchors;
  const chain = await readTarget(root, configured.chain, cache);
  if (!Array.isArray(chain)) return chain;
  return { ok: true, trust: { anchors, chain } };
}

async function readTarget(root: TargetRoot, targetPath: string | undefined, cache: VerificationCache | undefined): Promise<Certificate[] | { ok: false; reason: string }> {
  if (targetPath === undefined) return [];
  const file = await readTrustFile(root, targetPath, cache);
  return file === undefined ? { ok: false, reason: `${targetPath}, named in the configuration, is missing` } : file.certificates;
}

/** --anchor/--chain, or the configuration named by --config, of `verify-package`. */
export interface TrustOptions {
  readonly anchor?: string;
  readonly chain?: string;
  readonly config?: string;
}

export interface NamedTrust {
  readonly anchor: string;
  readonly chain?: string;
  readonly trust: PackageTrust;
  /** What pkg_install would only warn about (a CERTIFICATE_CHAIN it cannot use). */
  readonly warnings: readonly string[];
}

/**
 * The trust files named on the command line, or CERTIFICATE_ANCHOR_PKGS/CERTIFICATE_CHAIN
 * from --config (the options win), read relative to the working directory. Undefined when
 * no anchor is named at all; PKG_CONFIG_MISSING when --config names none.
 */
export async function namedTrust(options: TrustOptions, cwd: string, unreadable: Unreadable): Promise<NamedTrust | undefined> {
  let anchor = options.anchor;
  let chain = options.chain;
  let chainFromConfig = false;
  if (options.config) {
    const configured = configuredTrust(await readInputText(options.config, cwd, unreadable));
    anchor ??= configured.anchor;
    if (chain === undefined) {
      chain = configured.chain;
      chainFromConfig = chain !== undefined;
    }
    if (anchor === undefined) throw new PackageError("PKG_CONFIG_MISSING", `${options.config} sets no CERTIFICATE_ANCHOR_PKGS`, { detail: { file: options.config } });
  }
  if (anchor === undefined) return undefined;
  const warnings: string[] = [];
  const anchors = (await readCertificateInput(anchor, cwd, unreadable)).certificates;
  const chainCertificates = chain === undefined ? [] : chainFromConfig ? await configuredChain(chain, cwd, unreadable, warnings) : (await readCertificateInput(chain, cwd, unreadable)).certificates;
  return { anchor, ...(chain === undefined ? {} : { chain }), trust: { anchors, chain: chainCertificates }, warnings };
}

/**
 * CERTIFICATE_CHAIN as pkg_install reads it (lib/pkcs7.c file_to_certs): a file that cannot
 * be opened, holds no certificate or a damaged one only warns, and the signature is
 * verified without a chain; so here, with the warning in the output. A --chain named on the
 * command line is the user's own input and is read strictly.
 */
async function configuredChain(path: string, cwd: string, unreadable: Unreadable, warnings: string[]): Promise<Certificate[]> {
  try {
    return (await readCertificateInput(path, cwd, unreadable)).certificates;
  } catch (error) {
    if (!(error instanceof PkgtrustError)) throw error;
    warnings.push(`CERTIFICATE_CHAIN ${path}: ${error.message}; pkg_install then verifies without it, and so did this verdict`);
    return [];
  }
}
