import type { Dispatcher } from "undici";
import { DEFAULT_LIMITS, downloadDeadlineMs, type FetchLimits } from "../limits.js";
import { FetchError, displayUrl } from "./errors.js";
import { fetchBytes, fetchStream, urlExists, type FetchedStream, type FetchOptions } from "./fetch.js";

/** What a download reports while it runs: each attempt (with when it gives up) and the bytes so far. */
export type FetchEvent =
  | {
      readonly type: "attempt";
      readonly url: string;
      /** 1-based, of `attempts` (1 + retries). */
      readonly attempt: number;
      readonly attempts: number;
      /** Epoch milliseconds at which the download's total deadline ends it (FETCH_DEADLINE). */
      readonly givesUpAt: number;
      /** Why the previous attempt ended, from the second attempt on. */
      readonly retryAfter?: { readonly code: string; readonly message: string };
    }
  | { readonly type: "progress"; readonly url: string; readonly received: number; readonly total?: number };

/** One caller's side of a download: what cancels it and where its events go. */
export interface FetchCall {
  /** Aborting ends the download at once with the signal's reason when it is a PkgtrustError. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: FetchEvent) => void;
}

/**
 * The one way setup and refresh download (injected as tuf-js injects its Fetcher): every
 * download has a size cap, retries, a redirect limit and a total deadline sized from its cap;
 * tests pass shorter limits instead of waiting for the real ones.
 */
export interface Fetcher {
  readonly limits: FetchLimits;
  /** A whole (small) file; a broken body is retried. */
  bytes(url: URL, maxBytes: number, call?: FetchCall): Promise<{ bytes: Uint8Array; finalUrl: URL }>;
  /** A streamed body, to be read to the end or left by a break (which closes the connection). */
  stream(url: URL, maxBytes: number, call?: FetchCall): Promise<FetchedStream>;
  /** true for 2xx, false for 404/410 or a missing file; other failures throw. */
  exists(url: URL, call?: FetchCall): Promise<boolean>;
}

export function createFetcher(options: { readonly dispatcher: Dispatcher; readonly limits?: FetchLimits }): Fetcher {
  const limits = options.limits ?? DEFAULT_LIMITS;

  /** The options of one download, and its deadline's timer to clear once it is over. */
  const start = (url: URL, maxBytes: number, call: FetchCall) => {
    const ms = downloadDeadlineMs(limits, maxBytes);
    const givesUpAt = Date.now() + ms;
    const deadline = new AbortController();
    const shown = displayUrl(url);
    // Slow-retrieval attack (TUF): the idle timeout alone lets a trickle run for ever.
    const timer = setTimeout(() => {
      const message = `${shown}: not downloaded within ${Math.round(ms / 1000)} s (${limits.minBytesPerSecond} bytes/s for the ${maxBytes}-byte limit, plus ${Math.round(limits.deadlineGraceMs / 1000)} s)`;
      deadline.abort(new FetchError("FETCH_DEADLINE", message, { detail: { url: shown, deadlineMs: ms } }));
    }, ms);
    timer.unref();
    const signal = call.signal === undefined ? deadline.signal : AbortSignal.any([call.signal, deadline.signal]);
    const { onEvent } = call;
    const fetchOptions: FetchOptions = {
      dispatcher: options.dispatcher,
      maxBytes,
      signal,
      retries: limits.retries,
      backoffMs: limits.backoffMs,
      maxRedirects: limits.redirects,
      ...(onEvent === undefined
        ? {}
        : {
            onProgress: (p) => onEvent({ type: "progress", ...p }),
            onAttempt: (attempt, attempts, previous) =>
              onEvent({ type: "attempt", url: shown, attempt, attempts, givesUpAt, ...(previous ? { retryAfter: { code: previous.code, message: previous.message } } : {}) }),
          }),
    };
    return { fetchOptions, done: () => clearTimeout(timer) };
  };

  return {
    limits,
    async bytes(url, maxBytes, call = {}) {
      const { fetchOptions, done } = start(url, maxBytes, call);
      try {
        return await fetchBytes(url, fetchOptions);
      } finally {
        done();
      }
    },
    async stream(url, maxBytes, call = {}) {
      const { fetchOptions, done } = start(url, maxBytes, call);
      let opened: FetchedStream;
      try {
        opened = await fetchStream(url, fetchOptions);
      } catch (error) {
        done();
        throw error;
      }
      // The deadline runs until the body is read or left; the chunks pass through as they come.
      const source = opened.body[Symbol.asyncIterator]();
      const body: AsyncIterableIterator<Uint8Array> = {
        async next() {
          try {
            const step = await source.next();
            if (step.done === true) done();
            return step;
          } catch (error) {
            done();
            throw error;
          }
        },
        async return() {
          done();
          await source.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return { ...opened, body };
    },
    async exists(url, call = {}) {
      const { fetchOptions, done } = start(url, 0, call);
      try {
        return await urlExists(url, fetchOptions);
      } finally {
        done();
      }
    },
  };
}
