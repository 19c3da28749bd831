import { setTimeout as sleep } from "node:timers/promises";
import { request, type Dispatcher } from "./undici.js";
import { PkgtrustError } from "../errors.js";
import { DEFAULT_LIMITS } from "../limits.js";
import { VERSION } from "../version.js";
import { collect, meteredBody, tooLargeError, type FetchProgress } from "./body.js";
import { classifyError } from "./classify.js";
import { FetchError, displayUrl } from "./errors.js";
import { openFile } from "./file.js";

export type { FetchProgress } from "./body.js";

export interface FetchOptions {
  dispatcher: Dispatcher;
  /** The most bytes the body may have; Content-Length above it fails before reading. */
  maxBytes: number;
  onProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
  /** Further attempts after a network error or a 5xx status; default 3. */
  retries?: number;
  /** Base of the exponential backoff between attempts, with jitter; default 500 ms. */
  backoffMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Called before each attempt (1-based, of 1 + retries), with the failure that made the previous one end. */
  onAttempt?: (attempt: number, attempts: number, previous?: PkgtrustError) => void;
}

export interface FetchedStream {
  body: AsyncIterable<Uint8Array>;
  /** The announced length, when the server or the file system gave one. */
  size?: number;
  /** The URL after redirects. */
  finalUrl: URL;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const HEADERS = { "user-agent": `pkgtrust/${VERSION}`, "accept-encoding": "identity" };

/**
 * Opens a download for the caller to verify while it streams. Retries happen only
 * before the body started: a break in the body is FETCH_INTERRUPTED for the caller.
 */
export async function fetchStream(url: URL, options: FetchOptions): Promise<FetchedStream> {
  checkScheme(url);
  if (url.protocol === "file:") return openFile(url, options);
  return withRetries(options, () => openHttp(url, options));
}

/** Downloads a whole (small) file; a break in the body is retried like any network error. */
export async function fetchBytes(url: URL, options: FetchOptions): Promise<{ bytes: Uint8Array; finalUrl: URL }> {
  checkScheme(url);
  const once = async () => {
    const opened = url.protocol === "file:" ? await openFile(url, options) : await openHttp(url, options);
    return { bytes: await collect(opened.body), finalUrl: opened.finalUrl };
  };
  return url.protocol === "file:" ? once() : withRetries(options, once);
}

/** Whether the URL names an existing file: true for 2xx, false for 404/410 or a missing file; other failures throw. */
export async function urlExists(url: URL, options: Omit<FetchOptions, "maxBytes">): Promise<boolean> {
  try {
    // The body is never read, so neither the cap nor progress applies.
    const opened = await fetchStream(url, { ...options, maxBytes: Number.MAX_SAFE_INTEGER, onProgress: undefined });
    // Only the answer matters: leaving the body unread closes the connection.
    await opened.body[Symbol.asyncIterator]().return?.();
    return true;
  } catch (error) {
    if (error instanceof FetchError && (error.code === "FETCH_NOT_FOUND" || error.code === "FETCH_FILE_NOT_FOUND")) return false;
    throw error;
  }
}

function checkScheme(url: URL): void {
  if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "file:") {
    throw new FetchError("FETCH_BAD_URL", `${displayUrl(url)}: ${url.protocol} URLs are not supported`, { detail: { url: displayUrl(url) } });
  }
}

async function withRetries<T>(options: FetchOptions, attempt: () => Promise<T>): Promise<T> {
  const retries = options.retries ?? DEFAULT_LIMITS.retries;
  const base = options.backoffMs ?? DEFAULT_LIMITS.backoffMs;
  let previous: PkgtrustError | undefined;
  for (let done = 0; ; done++) {
    options.onAttempt?.(done + 1, retries + 1, previous);
    try {
      return await attempt();
    } catch (error) {
      if (done >= retries || !isRetryable(error) || options.signal?.aborted === true) throw error;
      previous = error as PkgtrustError;
      // Full jitter keeps many installers from retrying a failing mirror in step.
      const delay = base * 2 ** done * (0.5 + Math.random() / 2);
      await sleep(delay, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(() => undefined);
    }
  }
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof FetchError)) return false;
  if (error.code === "FETCH_HTTP_STATUS") return Number(error.detail.status) >= 500;
  return error.code === "FETCH_NETWORK" || error.code === "FETCH_TIMEOUT" || error.code === "FETCH_INTERRUPTED";
}

/** One attempt: follows redirects by hand, so that each hop is checked, and opens the final body. */
async function openHttp(start: URL, options: FetchOptions): Promise<FetchedStream> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_LIMITS.redirects;
  const visited = new Set<string>();
  let url = start;
  for (let hops = 0; ; hops++) {
    visited.add(withoutHash(url));
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: options.dispatcher,
        method: "GET",
        headers: HEADERS,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      throw classifyError(error, url, "request", options.signal);
    }
    const { statusCode, headers, body } = response;
    const shown = displayUrl(url);
    if (REDIRECT_STATUSES.has(statusCode)) {
      discard(body);
      const next = redirectTarget(url, headers.location);
      if (visited.has(withoutHash(next))) {
        throw new FetchError("FETCH_REDIRECT_LOOP", `${shown} redirects back to ${displayUrl(next)}`, { detail: { url: shown } });
      }
      if (hops + 1 > maxRedirects) {
        throw new FetchError("FETCH_TOO_MANY_REDIRECTS", `${displayUrl(start)}: more than ${maxRedirects} redirects`, { detail: { url: displayUrl(start), maxRedirects } });
      }
      url = next;
      continue;
    }
    if (statusCode < 200 || statusCode > 299) {
      discard(body);
      throw statusError(url, statusCode);
    }
    const size = contentLength(headers["content-length"]);
    if (size !== undefined && size > options.maxBytes) {
      discard(body);
      throw tooLargeError(url, size, options.maxBytes);
    }
    const finalUrl = url;
    const metered = meteredBody(body, {
      url: finalUrl,
      maxBytes: options.maxBytes,
      ...(size === undefined ? {} : { total: size }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      classify: (error) => classifyError(error, finalUrl, "body", options.signal),
    });
    return { body: metered, ...(size === undefined ? {} : { size }), finalUrl };
  }
}

function redirectTarget(from: URL, location: string | string[] | undefined): URL {
  const shown = displayUrl(from);
  if (typeof location !== "string" || location === "") {
    throw new FetchError("FETCH_HTTP_STATUS", `${shown}: a redirect without a Location`, { detail: { url: shown } });
  }
  let next: URL;
  try {
    next = new URL(location, from);
  } catch (error) {
    throw new FetchError("FETCH_HTTP_STATUS", `${shown}: a redirect to an invalid URL`, { cause: error, detail: { url: shown } });
  }
  // Downgrade attack: an https download must not continue in clear text, where anyone on
  // the path could substitute the key bundle; and no server may point us at file: or ftp:.
  if ((from.protocol === "https:" && next.protocol !== "https:") || (next.protocol !== "http:" && next.protocol !== "https:")) {
    throw new FetchError("FETCH_INSECURE_REDIRECT", `${shown} redirects to ${displayUrl(next)}`, { detail: { url: shown, location: displayUrl(next) } });
  }
  return next;
}

function statusError(url: URL, status: number): PkgtrustError {
  const shown = displayUrl(url);
  const detail = { url: shown, status };
  if (status === 404 || status === 410) return new FetchError("FETCH_NOT_FOUND", `${shown}: not found (HTTP ${status})`, { detail });
  if (status === 407) return new FetchError("FETCH_PROXY", `${shown}: the proxy asks for authentication (HTTP 407)`, { detail });
  return new FetchError("FETCH_HTTP_STATUS", `${shown}: the server answered HTTP ${status}`, { detail });
}

function contentLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Closes a response we will not read; undici reports the close as an error, which is expected here. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

function withoutHash(url: URL): string {
  return url.href.replace(/#.*$/, "");
}
