import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { unsafeCharacter } from "../config/config-value.js";
import { FetchError, displayUrl } from "../net/errors.js";
import type { FetchCall, Fetcher } from "../net/fetcher.js";
import { decompressCapped, DecompressionFailure, detectCompression } from "../package/compression.js";
import { DEFAULT_LIMITS, type SummaryLimits } from "../limits.js";
import { parsePkgSummary, type PkgSummaryEntry } from "../package/pkg-summary.js";
import { RepositoryError } from "./repository-errors.js";

export { chooseTestPackage, compareVersions, type PkgSummaryEntry } from "../package/pkg-summary.js";

export type { SummaryLimits } from "../limits.js";
export const SUMMARY_LIMITS: SummaryLimits = DEFAULT_LIMITS.summary;

/** The compressed pkg_summary files a repository may have, in the order they are tried. */
const SUMMARY_FILES = ["pkg_summary.gz", "pkg_summary.bz2", "pkg_summary.xz"] as const;

/**
 * The repository as the user typed it: an http, https or file URL, or an absolute path
 * (offline installs from media). `cwd` only serves the suggestion for a relative path.
 */
export function parseRepositoryInput(input: string, cwd: string): URL {
  const text = input.trim();
  // Before the URL parser, which silently drops tabs and newlines inside a URL.
  requireSafeRepository(text, text);
  if (text.startsWith("/")) return pathToFileURL(text);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) {
    const suggestion = text === "" ? "" : ` (did you mean ${resolve(cwd, text)} or https://${text}?)`;
    throw badUrl(text, `"${text}" is neither a URL nor an absolute path${suggestion}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw badUrl(text, `"${text}" is not a valid URL`, error);
  }
  if (url.protocol === "ftp:") throw badUrl(text, `ftp is not supported: use the http or https URL of the same mirror`);
  if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "file:") throw badUrl(text, `${url.protocol} URLs are not supported`);
  if (url.protocol === "file:" && url.hostname !== "" && url.hostname !== "localhost") throw badUrl(text, `a file: URL cannot name the host ${url.hostname}`);
  // Our requests never send user:password@ (undici ignores it), and it would end up in pkgin's configuration in clear.
  if (url.username !== "" || url.password !== "") throw badUrl(displayUrl(url), "user names and passwords in the repository URL are not supported");
  // pkg_keys.pem and package names are joined to the URL; a query or fragment would be dropped silently.
  if (url.search !== "" || url.hash !== "") throw badUrl(text, `the repository URL must not have a query or fragment`);
  requireSafeRepository(configuredPath(url, text), text);
  return url;
}

/**
 * The repository as it will stand in PKG_PATH: a file: URL's path is percent-decoded first,
 * so %0A and %3B count as the newline and ';' they become.
 */
function configuredPath(url: URL, input: string): string {
  if (url.protocol !== "file:") return url.href;
  try {
    return decodeURIComponent(url.pathname);
  } catch (error) {
    throw badUrl(input, `the path of "${input}" is not valid percent-encoded UTF-8`, error);
  }
}

/** Line injection (config-value.ts): refused here with a clear error, and again when the files are written. */
function requireSafeRepository(value: string, input: string): void {
  const unsafe = unsafeCharacter(value, { separator: true });
  if (unsafe === undefined) return;
  throw new RepositoryError("REPO_UNSAFE_CHARACTER", `the repository ${JSON.stringify(input)} holds ${unsafe}, which would break pkg_install.conf`, {
    detail: { input },
  });
}

function badUrl(input: string, message: string, cause?: unknown) {
  return new RepositoryError("REPO_BAD_URL", message, { ...(cause === undefined ? {} : { cause }), detail: { input } });
}

/**
 * The repository's directory URL, with a trailing slash; pkgsrc mirrors are often given
 * without the final All/, so <URL>/All/ is taken when it holds a compressed pkg_summary.
 */
export async function normaliseRepository(url: URL, fetcher: Fetcher, call: FetchCall = {}): Promise<URL> {
  const repository = withTrailingSlash(url);
  if (repository.pathname.endsWith("/All/")) return repository;
  const all = new URL("All/", repository);
  for (const name of SUMMARY_FILES) {
    if (await fetcher.exists(new URL(name, all), call)) return all;
  }
  return repository;
}

/** pkg_install's default location of the key bundle: <repository>/pkg_keys.pem. */
export function keyBundleUrl(repository: URL): URL {
  return new URL("pkg_keys.pem", withTrailingSlash(repository));
}

export function packageUrl(repository: URL, entry: PkgSummaryEntry): URL {
  return new URL(entry.fileName, withTrailingSlash(repository));
}

/**
 * pkg_summary.gz, else .bz2, else .xz (a repository built with PKG_COMPRESSION=xz may have
 * only that), else the plain pkg_summary; each with its cap (the endless-data attack, and
 * decompression bombs).
 */
export async function readPkgSummary(repository: URL, fetcher: Fetcher, call: FetchCall = {}, limits: SummaryLimits = SUMMARY_LIMITS): Promise<PkgSummaryEntry[]> {
  const base = withTrailingSlash(repository);
  for (const name of SUMMARY_FILES) {
    const url = new URL(name, base);
    const compressed = await fetchIfPresent(fetcher.bytes(url, limits.maxCompressedBytes, call));
    if (compressed !== undefined) return parsePkgSummary(await unpackCapped(compressed, url, limits.maxSummaryBytes), displayUrl(url));
  }
  const plainUrl = new URL("pkg_summary", base);
  const plain = await fetchIfPresent(fetcher.bytes(plainUrl, limits.maxSummaryBytes, call));
  if (plain === undefined) {
    throw new RepositoryError("REPO_SUMMARY_MISSING", `${displayUrl(base)} has no pkg_summary (.gz, .bz2, .xz or plain)`, { detail: { url: displayUrl(base) } });
  }
  return parsePkgSummary(new TextDecoder().decode(plain), displayUrl(plainUrl));
}

async function fetchIfPresent(download: Promise<{ bytes: Uint8Array }>): Promise<Uint8Array | undefined> {
  try {
    return (await download).bytes;
  } catch (error) {
    if (error instanceof FetchError && (error.code === "FETCH_NOT_FOUND" || error.code === "FETCH_FILE_NOT_FOUND")) return undefined;
    throw error;
  }
}

/** Unpacks a compressed pkg_summary, whatever its magic bytes say it is (compression.ts), up to the cap. */
async function unpackCapped(bytes: Uint8Array, url: URL, maxBytes: number): Promise<string> {
  const shown = displayUrl(url);
  const detail = { url: shown, maxBytes };
  const detected = detectCompression(bytes.subarray(0, 8));
  if (!("compression" in detected) || detected.compression === "none") {
    throw new RepositoryError("REPO_SUMMARY_MALFORMED", `${shown} is not gzip, bzip2 or xz data`, { detail });
  }
  try {
    return new TextDecoder().decode(await decompressCapped(bytes, detected.compression, maxBytes));
  } catch (error) {
    if (error instanceof DecompressionFailure && error.reason === "too-large") {
      throw new RepositoryError("REPO_SUMMARY_TOO_LARGE", `${shown} unpacks to more than ${maxBytes} bytes`, { cause: error, detail });
    }
    throw new RepositoryError("REPO_SUMMARY_MALFORMED", `${shown} ${(error as Error).message}`, { cause: error, detail });
  }
}

function withTrailingSlash(url: URL): URL {
  const copy = new URL(url.href);
  if (!copy.pathname.endsWith("/")) copy.pathname += "/";
  return copy;
}
