import { Duplex, PassThrough, Transform } from "node:stream";
import { Bzip2Decoder } from "./bzip2.js";
import { gzipStream } from "./gzip.js";
import { settled } from "./settled.js";
import { XzDecoder } from "./xz.js";
import { ZstdDecoder } from "./zstd.js";

/**
 * The compressions of an inner package (and of pkg_summary), told apart by their magic
 * bytes, never by a file name, as libarchive's filter bidders do for pkg_install
 * (archive_read_support_filter_all). pkgsrc's PKG_COMPRESSION makes gzip, bzip2 and xz;
 * libarchive also reads zstd, LZMA-alone and an uncompressed tar. Decompressors are
 * streams, so that a caller reads only as far as it needs and memory stays bounded by its caps.
 */

export type Compression = "gzip" | "bzip2" | "xz" | "zstd" | "lzma" | "none";

/** What libarchive would also read but pkgtrust cannot: named in the error. */
const UNREADABLE: readonly { readonly name: string; readonly magic: readonly number[] }[] = [
  { name: "compress (.Z)", magic: [0x1f, 0x9d] },
  { name: "lzip", magic: [0x4c, 0x5a, 0x49, 0x50] },
  { name: "lz4", magic: [0x04, 0x22, 0x4d, 0x18] },
];

const READABLE: readonly { readonly name: Exclude<Compression, "lzma" | "none">; readonly magic: readonly number[] }[] = [
  { name: "gzip", magic: [0x1f, 0x8b] },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
];

/** Bytes enough to tell every format above apart (LZMA-alone's bid reads 14). */
export const MAGIC_BYTES = 14;

const starts = (head: Uint8Array, magic: readonly number[]) => magic.every((byte, i) => head[i] === byte);

/** A zstd skippable frame, which libarchive's zstd bidder takes as zstd too: 0x184D2A50 to 0x184D2A5F, little-endian. */
const isSkippableFrame = (head: Uint8Array) => ((head[0] ?? 0) & 0xf0) === 0x50 && starts(head.subarray(1), [0x2a, 0x4d, 0x18]);

/** bzip2: "BZh" and a block size digit 1-9 (libarchive's bzip2 bidder). */
const isBzip2 = (head: Uint8Array) => starts(head, [0x42, 0x5a, 0x68]) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39;

/** lzma_bidder_bid's dictionary sizes: 2^12 to 2^27, what LZMA SDK and XZ Utils' lzma write. */
const LZMA_DICTIONARIES = new Set(Array.from({ length: 16 }, (_, i) => 2 ** (12 + i)));

/**
 * libarchive's lzma_bidder_bid: LZMA-alone has no magic, so its header's likely values are
 * scored. A properties byte of at most 224 and a dictionary size it knows (or, with the
 * usual properties byte 0x5d/0x5e and an unknown size, any multiple of 1 MiB from 3 to 63
 * MiB, which XZ Utils falls back to) make it bid.
 */
function isLzmaAlone(head: Uint8Array): boolean {
  if (head.length < 14 || (head[0] ?? 0) > (4 * 5 + 4) * 9 + 8) return false;
  const usual = head[0] === 0x5d || head[0] === 0x5e;
  const unknownSize = head.subarray(5, 13).every((byte) => byte === 0xff);
  const dictionary = Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32LE(1);
  if (LZMA_DICTIONARIES.has(dictionary)) return true;
  return usual && unknownSize && dictionary >= 0x00300000 && dictionary <= 0x03f00000 && (dictionary & 0xfffff) === 0;
}

export type Detected = { readonly compression: Compression } | { readonly unreadable: string };

/** The compression of data starting with `head` (at least MAGIC_BYTES of it, unless shorter); anything else is taken as uncompressed. */
export function detectCompression(head: Uint8Array): Detected {
  if (isBzip2(head)) return { compression: "bzip2" };
  if (isSkippableFrame(head)) return { compression: "zstd" };
  if (isLzmaAlone(head)) return { compression: "lzma" };
  const readable = READABLE.find((f) => starts(head, f.magic));
  if (readable) return { compression: readable.name };
  const unreadable = UNREADABLE.find((f) => starts(head, f.magic));
  if (unreadable) return { unreadable: unreadable.name };
  return { compression: "none" };
}

/** Thrown into a push decoder's own loop to stop it once the output passed its cap, or its stream was destroyed. */
const FULL = new Error("output cap reached");

/**
 * A Transform around a push decoder that calls `emit` synchronously (bzip2, xz, zstd).
 * Such a decoder turns one input chunk into as much output as it encodes, ignoring
 * backpressure (a decompression bomb): past `maxOutput` bytes it is stopped and the rest of
 * the input is ignored, and the stream ends there; the reader's own cap reports it.
 */
function pushDecoder(maxOutput: number, start: (emit: (data: Uint8Array) => void) => { write(chunk: Uint8Array): void; end(): void }): Transform {
  let total = 0;
  let full = false;
  const guard = (callback: (error?: Error | null) => void, work: () => void) => {
    if (full) return callback();
    try {
      work();
      callback();
    } catch (error) {
      callback(full || error === FULL ? null : (error as Error));
    }
  };
  const stream = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => guard(callback, () => decoder.write(chunk)),
    flush: (callback) => guard(callback, () => decoder.end()),
  });
  // The callbacks above run only after this assignment: the stream is written to later.
  const decoder = start((data) => {
    // Destroyed (its reader refused the package): the rest of a chunk is not decoded.
    if (full || stream.destroyed) throw FULL;
    if (data.length === 0) return;
    stream.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    total += data.length;
    full = total > maxOutput;
  });
  return stream;
}

/** zlib's output chunks for gzip (src/package/gzip.ts). */
const INFLATE_CHUNK = 256 * 1024;
/** zlib's output chunks for a walk through a whole package: inflating goes faster still (256 MiB package: 1.33 to 1.21 s of CPU). */
export const WALK_INFLATE_CHUNK = 1024 * 1024;

/**
 * A stream that decompresses `compression`; "none" passes the bytes through. Readers stop
 * it at their cap; `maxOutput` bounds what a decoder that ignores backpressure produces
 * before that (the stream then ends early). `inflateChunk`: the size of gzip's output chunks.
 */
export function decompressor(compression: Compression, maxOutput = Number.POSITIVE_INFINITY, inflateChunk = INFLATE_CHUNK): Duplex {
  switch (compression) {
    case "gzip":
      return gzipStream(inflateChunk);
    case "bzip2":
      return pushDecoder(maxOutput, (emit) => new Bzip2Decoder(emit));
    case "xz":
    case "lzma":
      return pushDecoder(maxOutput, (emit) => new XzDecoder(emit, compression));
    case "zstd":
      return pushDecoder(maxOutput, (emit) => new ZstdDecoder(emit));
    case "none":
      return new PassThrough();
  }
}

/** libarchive's choose_filters stops adding filters at this many (MAX_NUMBER_FILTERS 25 passes, the last only to bid). */
const MAX_FILTERS = 24;
/**
 * Input waiting in a stacked zlib (asynchronous) beyond this is a bomb, refused: the reader
 * waits for the stacked decompressors between its slices (drained), so only one slice's
 * output, which a push decoder makes at once, can pile up.
 */
const MAX_STACKED_PENDING = 64 * 1024 * 1024;

export interface StackedFilters {
  /** Destroys every decompressor, the first included. */
  destroy(): void;
  /** Resolves once every stacked decompressor has taken its waiting input in (or is gone); undefined when none has input waiting. */
  drained(): Promise<void> | undefined;
}

export interface FilterOutput {
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/**
 * Hands on the output of `first` as libarchive's choose_filters reads it for pkg_install: it
 * bids again on each filter's output and, where a compression bids, stacks its decompressor
 * on top (a gzip inside an xz is read; up to 24 filters, a 25th is an error). The first
 * bytes of each output decide, as the bidders' look-ahead does. Output reaches `out`
 * synchronously as the last decompressor gives it.
 */
export function stackFilters(first: Duplex, options: { maxOutput?: number; inflateChunk?: number }, out: FilterOutput): StackedFilters {
  const layers = [first];
  const attach = (layer: Duplex, count: number) => {
    let head: Buffer[] | undefined = [];
    let headLength = 0;
    let next: Duplex | undefined;
    /** Set when this output cannot be read on: nothing more of it is handed on. */
    let refused = false;
    const refuse = (message: string) => {
      refused = true;
      out.error(new Error(message));
    };
    const pass = (data: Buffer) => {
      if (refused) return;
      if (!next) return out.data(data);
      next.write(data);
      if (next.writableLength > MAX_STACKED_PENDING) refuse("a stacked decompressor is fed faster than it decodes (a decompression bomb)");
    };
    const decide = () => {
      const data = Buffer.concat(head ?? []);
      head = undefined;
      const detected = detectCompression(data);
      if ("unreadable" in detected) return refuse(`a ${detected.unreadable}-compressed stream is stacked inside, which pkgtrust cannot read`);
      if (detected.compression !== "none") {
        if (count === MAX_FILTERS) return refuse(`more than ${MAX_FILTERS} compressions are stacked ("Input requires too many filters for decoding")`);
        next = decompressor(detected.compression, options.maxOutput, options.inflateChunk);
        layers.push(next);
        attach(next, count + 1);
      }
      if (data.length > 0) pass(data);
    };
    layer.on("data", (data: Buffer) => {
      if (!head) return pass(data);
      head.push(data);
      headLength += data.length;
      if (headLength >= MAGIC_BYTES) decide();
    });
    layer.on("end", () => {
      if (head) decide();
      if (refused) return;
      if (next) next.end();
      else out.end();
    });
    layer.on("error", (error: Error) => out.error(error));
  };
  attach(first, 1);
  return {
    destroy: () => {
      for (const layer of layers) layer.destroy();
    },
    drained: () => {
      const waiting = layers.slice(1).filter((layer) => layer.writableNeedDrain);
      return waiting.length === 0 ? undefined : Promise.all(waiting.map((layer) => settled(layer, (done) => layer.once("drain", done)))).then(() => undefined);
    },
  };
}

/** Why decompressCapped gave up: the output would exceed the cap, or the data is damaged. */
export class DecompressionFailure extends Error {
  constructor(
    readonly reason: "too-large" | "corrupt",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DecompressionFailure";
  }
}

/** Decompresses a whole buffer, stopping as soon as the output passes `maxBytes` (a decompression bomb). */
export async function decompressCapped(bytes: Uint8Array, compression: Compression, maxBytes: number): Promise<Buffer> {
  const stream = decompressor(compression, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  const feeding = (async () => {
    for (let offset = 0; offset < bytes.length && !stream.destroyed; offset += 65536) {
      if (!stream.write(bytes.subarray(offset, offset + 65536))) await settled(stream, (done) => stream.once("drain", done));
    }
    stream.end();
  })();
  try {
    for await (const part of stream as AsyncIterable<Buffer>) {
      total += part.length;
      if (total > maxBytes) throw new DecompressionFailure("too-large", `unpacks to more than ${maxBytes} bytes`);
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof DecompressionFailure) throw error;
    throw new DecompressionFailure("corrupt", `is not valid ${compression} data: ${(error as Error).message}`, { cause: error });
  } finally {
    stream.destroy();
    await feeding.catch(() => undefined);
  }
  return Buffer.concat(parts);
}
