import { Duplex, PassThrough, Transform } from "node:stream";
import { ReadableStream, type ReadableStreamDefaultController } from "node:stream/web";
import xzDecompress from "xz-decompress";
import { Bzip2Decoder } from "./bzip2.js";
import { gzipStream } from "./gzip.js";
import { OutputBlocks } from "./output-blocks.js";
import { settled } from "./settled.js";
import { ZstdDecoder } from "./zstd.js";

/**
 * The compressions of an inner package (and of pkg_summary), told apart by their magic
 * bytes, never by a file name, as libarchive's filter bidders do for pkg_install
 * (archive_read_support_filter_all). pkgsrc's PKG_COMPRESSION makes gzip, bzip2 and xz;
 * libarchive also reads zstd and an uncompressed tar. Decompressors are streams, so that a
 * caller reads only as far as it needs and memory stays bounded by its caps.
 */

export type Compression = "gzip" | "bzip2" | "xz" | "zstd" | "none";

/** What libarchive would also read but pkgtrust cannot: named in the error. */
const UNREADABLE: readonly { readonly name: string; readonly magic: readonly number[] }[] = [
  { name: "lzma (LZMA-alone)", magic: [0x5d, 0x00, 0x00] },
  { name: "compress (.Z)", magic: [0x1f, 0x9d] },
  { name: "lzip", magic: [0x4c, 0x5a, 0x49, 0x50] },
  { name: "lz4", magic: [0x04, 0x22, 0x4d, 0x18] },
];

const READABLE: readonly { readonly name: Exclude<Compression, "none">; readonly magic: readonly number[] }[] = [
  { name: "gzip", magic: [0x1f, 0x8b] },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
];

/** A zstd skippable frame, which libarchive's zstd bidder takes as zstd too: 0x184D2A50 to 0x184D2A5F, little-endian. */
const isSkippableFrame = (head: Uint8Array) => ((head[0] ?? 0) & 0xf0) === 0x50 && starts(head.subarray(1), [0x2a, 0x4d, 0x18]);

/** Bytes enough to tell every format above apart. */
export const MAGIC_BYTES = 6;

const starts = (head: Uint8Array, magic: readonly number[]) => magic.every((byte, i) => head[i] === byte);

/** bzip2: "BZh" and a block size digit 1-9 (libarchive's bzip2 bidder). */
const isBzip2 = (head: Uint8Array) => starts(head, [0x42, 0x5a, 0x68]) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39;

export type Detected = { readonly compression: Compression } | { readonly unreadable: string };

/** The compression of data starting with `head` (at least MAGIC_BYTES of it, unless shorter); anything else is taken as uncompressed. */
export function detectCompression(head: Uint8Array): Detected {
  if (isBzip2(head)) return { compression: "bzip2" };
  if (isSkippableFrame(head)) return { compression: "zstd" };
  const readable = READABLE.find((f) => starts(head, f.magic));
  if (readable) return { compression: readable.name };
  const unreadable = UNREADABLE.find((f) => starts(head, f.magic));
  if (unreadable) return { unreadable: unreadable.name };
  return { compression: "none" };
}

/** Thrown into a push decoder's own loop to stop it once the output passed its cap. */
const FULL = new Error("output cap reached");

/**
 * A Transform around a push decoder that calls `emit` synchronously (zstd, bzip2).
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
      callback(full ? null : (error as Error));
    }
  };
  const stream = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => guard(callback, () => decoder.write(chunk)),
    flush: (callback) => guard(callback, () => decoder.end()),
  });
  // The callbacks above run only after this assignment: the stream is written to later.
  const decoder = start((data) => {
    if (full) throw FULL;
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

function zstdStream(maxOutput: number): Duplex {
  return pushDecoder(maxOutput, (emit) => new ZstdDecoder(emit));
}

function bzip2Stream(maxOutput: number): Duplex {
  return pushDecoder(maxOutput, (emit) => new Bzip2Decoder(emit));
}

function xzStream(): Duplex {
  // xz-decompress (xz-embedded in WebAssembly) reads a web stream and is read as one. Its
  // decoders share a module-wide lock that only the end or cancel() releases, so destroying
  // this stream cancels it. Input waits until the decoder asks for more; output is decoded
  // only when it is read.
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  let waiting: (() => void) | undefined;
  const compressed = new ReadableStream<Uint8Array>(
    {
      start: (controller) => void (feed = controller),
      pull: () => {
        const resume = waiting;
        waiting = undefined;
        resume?.();
      },
    },
    { highWaterMark: 1 },
  );
  const reader = new xzDecompress.XzReadableStream(compressed).getReader();
  const blocks = new OutputBlocks((data) => stream.push(data));
  const stream = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      feed.enqueue(new Uint8Array(chunk));
      if ((feed.desiredSize ?? 0) > 0) callback();
      else waiting = callback;
    },
    final(callback) {
      feed.close();
      callback();
    },
    read() {
      // Until something is handed on: a chunk that completes no 64 KiB block pushes nothing.
      const pull = () =>
        reader.read().then(({ done, value }) => {
          if (done) {
            blocks.end();
            this.push(null);
          } else if (!blocks.add(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) void pull();
        }, (error: unknown) => this.destroy(error as Error));
      void pull();
    },
    destroy(error, callback) {
      reader.cancel().catch(() => undefined);
      callback(error);
    },
  });
  return stream;
}

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
      return bzip2Stream(maxOutput);
    case "xz":
      return xzStream();
    case "zstd":
      return zstdStream(maxOutput);
    case "none":
      return new PassThrough();
  }
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
