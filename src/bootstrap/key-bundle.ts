/**
 * Fetching and reading a repository's pkg_keys.pem, with failures that name who can fix
 * them: the repository's operators (it publishes no bundle), the network or the mirror
 * (junk instead of a bundle: a captive portal, a proxy's error page, a broken mirror), or
 * the install medium (a bundle read from a file: URL).
 */
import { readBundle } from "../bundle/read.js";
import { asPkgtrustError } from "../errors.js";
import type { FetchCall, Fetcher } from "../net/fetcher.js";
import { displayUrl } from "../net/errors.js";
import type { VerificationCache } from "../pki/verification-cache.js";
import { BootstrapError } from "./errors.js";
import { keyBundleUrl } from "./repository.js";

const MISSING = new Set(["FETCH_NOT_FOUND", "FETCH_FILE_NOT_FOUND"]);
/** What junk in place of a bundle fails with; a private key (PEM_UNEXPECTED_BLOCK) is the operators' mistake and keeps its code. */
const NOT_A_BUNDLE = new Set(["PEM_EMPTY", "PEM_BAD_BASE64", "PEM_TRUNCATED", "PEM_BAD_DER"]);

/** Whether the directory is a package repository at all: it has a pkg_summary. */
async function hasSummary(repository: URL, fetcher: Fetcher, call: FetchCall): Promise<boolean> {
  for (const name of ["pkg_summary.gz", "pkg_summary.bz2", "pkg_summary.xz", "pkg_summary"]) {
    if (await fetcher.exists(new URL(name, repository), call)) return true;
  }
  return false;
}

export async function fetchKeyBundle(repository: URL, fetcher: Fetcher, maxBytes: number, call: FetchCall): Promise<Uint8Array> {
  const url = keyBundleUrl(repository);
  try {
    return (await fetcher.bytes(url, maxBytes, call)).bytes;
  } catch (error) {
    const failure = asPkgtrustError(error);
    if (!MISSING.has(failure.code) || !(await hasSummary(repository, fetcher, call))) throw error;
    throw new BootstrapError("BOOT_NO_KEY_BUNDLE", `${displayUrl(repository)} publishes no key bundle (no pkg_keys.pem beside its pkg_summary), so its packages cannot be verified`, {
      cause: error,
      detail: { url: displayUrl(url) },
    });
  }
}

/** The first characters of junk, printable, to show what was served instead ("<!DOCTYPE html>..."). */
function preview(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.subarray(0, 40)).toString("latin1").replace(/[^\x20-\x7e]+/g, " ").trim();
  return text === "" ? "no text" : `"${text}${bytes.length > 40 ? "..." : ""}"`;
}

export function readKeyBundle(bytes: Uint8Array, url: URL, cache?: VerificationCache): ReturnType<typeof readBundle> {
  try {
    return readBundle(Buffer.from(bytes).toString("utf8"), displayUrl(url), cache);
  } catch (error) {
    const failure = asPkgtrustError(error);
    if (!NOT_A_BUNDLE.has(failure.code)) throw error;
    const code = url.protocol === "file:" ? "BOOT_BUNDLE_DAMAGED_FILE" : "BOOT_BUNDLE_NOT_SERVED";
    throw new BootstrapError(code, `${displayUrl(url)} is not a key bundle (${failure.message}); it starts with ${preview(bytes)}`, {
      cause: error,
      detail: { url: displayUrl(url), pemCode: failure.code },
    });
  }
}
