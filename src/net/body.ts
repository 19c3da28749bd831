import type { PkgtrustError } from "../errors.js";
import { FetchError, displayUrl } from "./errors.js";

export interface FetchProgress {
  url: string;
  received: number;
  total?: number;
}

export interface Metering {
  url: URL;
  maxBytes: number;
  /** The announced length (Content-Length or the file size), already checked against maxBytes. */
  total?: number;
  onProgress?: (progress: FetchProgress) => void;
  /** Maps an error of the source to a FetchError. */
  classify: (error: unknown) => PkgtrustError;
}

/**
 * Passes the chunks of a body through, counting them against the cap and reporting
 * progress. Leaving early (an error, the consumer's break, or return() before the first
 * chunk, as urlExists does) releases the source, which closes the connection or the file.
 */
type StreamLike = { destroy?(): unknown; on?(event: "error", listener: () => void): unknown };

export function meteredBody(source: AsyncIterable<Uint8Array> & StreamLike, metering: Metering): AsyncIterableIterator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const metered = meter(iterator, metering);
  // A generator's finally never runs when it is returned before it started, and a stream's
  // own async iterator is such a generator: destroy a stream source outright. An unread
  // undici body then reports RequestAbortedError, which is expected here, not a crash.
  const release = async () => {
    await iterator.return?.().catch(() => undefined);
    source.on?.("error", () => undefined);
    source.destroy?.();
  };
  return {
    next: () => metered.next(),
    async return() {
      await metered.return(undefined);
      await release();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await release();
      return metered.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* meter(iterator: AsyncIterator<Uint8Array>, metering: Metering): AsyncGenerator<Uint8Array, void, undefined> {
  const { url, maxBytes, total, onProgress } = metering;
  const shown = displayUrl(url);
  let received = 0;
  let finished = false;
  try {
    onProgress?.({ url: shown, received, ...(total === undefined ? {} : { total }) });
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (error) {
        throw metering.classify(error);
      }
      if (step.done === true) break;
      received += step.value.byteLength;
      // Endless-data attack (TUF): the cap holds whatever the server announced, so a
      // missing or lying Content-Length cannot make us read without end.
      if (received > maxBytes) {
        throw new FetchError("FETCH_TOO_LARGE", `${shown}: more than ${maxBytes} bytes`, { detail: { url: shown, maxBytes } });
      }
      onProgress?.({ url: shown, received, ...(total === undefined ? {} : { total }) });
      yield step.value;
    }
    if (total !== undefined && received !== total) {
      throw new FetchError("FETCH_INTERRUPTED", `${shown}: received ${received} of ${total} bytes`, { detail: { url: shown, received, total } });
    }
    finished = true;
  } finally {
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
}

export async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function tooLargeError(url: URL, size: number, maxBytes: number): PkgtrustError {
  const shown = displayUrl(url);
  return new FetchError("FETCH_TOO_LARGE", `${shown}: ${size} bytes, more than the limit of ${maxBytes}`, { detail: { url: shown, size, maxBytes } });
}
