import { Duplex, PassThrough, Transform } from "node:stream";
import { TransformStream } from "node:stream/web";
import * as zlib from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
import unbzip2Stream from "unbzip2-stream";
import xzDecompress from "xz-decompress";

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

/** Bytes enough to tell every format above apart. */
export const MAGIC_BYTES = 6;

const starts = (head: Uint8Array, magic: readonly number[]) => magic.every((byte, i) => head[i] === byte);

/** bzip2: "BZh" and a block size digit 1-9 (libarchive's bzip2 bidder). */
const isBzip2 = (head: Uint8Array) => starts(head, [0x42, 0x5a, 0x68]) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39;

export type Detected = { readonly compression: Compression } | { readonly unreadable: string };

/** The compression of data starting with `head` (at least MAGIC_BYTES of it, unless shorter); anything else is taken as uncompressed. */
export function detectCompression(head: Uint8Array): Detected {
  if (isBzip2(head)) return { compression: "bzip2" };
  const readable = READABLE.find((f) => starts(head, f.magic));
  if (readable) return { compression: readable.name };
  const unreadable = UNREADABLE.find((f) => starts(head, f.magic));
  if (unreadable) return { unreadable: unreadable.name };
  return { compression: "none" };
}

/** A Transform around a push decoder that calls `emit` synchronously (fzstd, unbzip2-stream). */
function pushDecoder(start: (emit: (data: Uint8Array) => void) => { write(chunk: Uint8Array): void; end(): void }): Transform {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.write(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        decoder.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  // The callbacks above run only after this assignment: the stream is written to later.
  const decoder = start((data) => {
    if (data.length > 0) stream.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return stream;
}

/** Length of a gzip member header (RFC 1952 section 2.3), or undefined while incomplete. */
function gzipHeaderLength(bytes: Buffer): number | undefined {
  if (bytes.length < 10) return undefined;
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) throw new Error("not a gzip member with deflate data");
  const flags = bytes[3] ?? 0;
  let at = 10;
  if (flags & 4) {
    if (bytes.length < at + 2) return undefined;
    at += 2 + bytes.readUInt16LE(at); // FEXTRA
  }
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue; // FNAME, FCOMMENT: zero-terminated
    const zero = bytes.indexOf(0, at);
    if (zero < 0) return undefined;
    at = zero + 1;
  }
  if (flags & 2) at += 2; // FHCRC
  return bytes.length < at ? undefined : at;
}

/**
 * gzip as libarchive's gzip filter reads it: the deflate data of the member, without
 * checking the trailer's CRC and length (an "XXX TODO" there), and nothing after the
 * member taken as an error. (node:zlib's gunzip refuses both.) Further members are not
 * read: +CONTENTS, the first entry, is in the first one.
 */
function gzipStream(): Duplex {
  let header: Buffer | undefined = Buffer.alloc(0);
  let inflated = false;
  const inflate = zlib.createInflateRaw();
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (inflated) return callback();
      let data = chunk;
      if (header) {
        header = Buffer.concat([header, chunk]);
        let length: number | undefined;
        try {
          length = gzipHeaderLength(header);
        } catch (error) {
          return callback(error as Error);
        }
        if (length === undefined) return callback();
        data = header.subarray(length);
        header = undefined;
      }
      if (inflate.write(data)) callback();
      else inflate.once("drain", () => callback());
    },
    flush(callback) {
      if (header && header.length > 0) return callback(new Error("the gzip header is cut short"));
      inflate.end();
      if (inflated) return callback();
      inflate.once("end", () => callback());
    },
  });
  inflate.on("data", (data: Buffer) => stream.push(data));
  inflate.on("end", () => (inflated = true));
  inflate.on("error", (error) => stream.destroy(error));
  stream.on("close", () => inflate.destroy());
  return stream;
}

function zstdStream(): Duplex {
  // node:zlib has zstd from Node 22.15 / 23.8 on; fzstd (pure JS) before that.
  const native = (zlib as { createZstdDecompress?: () => Duplex }).createZstdDecompress;
  if (native) return native();
  return pushDecoder((emit) => {
    let ended = false;
    const decoder = new ZstdDecompress((data, final) => {
      emit(data);
      if (final) ended = true;
    });
    return {
      write: (chunk) => decoder.push(chunk),
      end: () => {
        decoder.push(new Uint8Array(0), true);
        if (!ended) throw new Error("the zstd stream ends early");
      },
    };
  });
}

function bzip2Stream(): Duplex {
  return pushDecoder((emit) => {
    const decoder = unbzip2Stream();
    let failure: Error | undefined;
    // Its bit reader shifts one input buffer at a time: hand it large ones.
    let pending: Buffer[] = [];
    let pendingLength = 0;
    const flush = () => {
      if (pendingLength > 0) decoder.write(Buffer.concat(pending));
      pending = [];
      pendingLength = 0;
    };
    decoder.on("data", (data: Buffer) => emit(data));
    decoder.on("error", (error: Error) => (failure ??= error));
    const check = () => {
      if (failure) throw failure;
    };
    return {
      write: (chunk) => {
        pending.push(Buffer.from(chunk));
        pendingLength += chunk.length;
        if (pendingLength >= 65536) flush();
        check();
      },
      end: () => {
        flush();
        decoder.end();
        check();
      },
    };
  });
}

function xzStream(): Duplex {
  // xz-decompress (xz-embedded in WebAssembly) reads a web stream; it serialises its
  // decoders with a module-wide lock that only cancel() or the end releases, so a reader
  // that stops early must destroy the stream (which cancels it).
  const input = new TransformStream<Uint8Array, Uint8Array>();
  return Duplex.fromWeb({ readable: new xzDecompress.XzReadableStream(input.readable), writable: input.writable });
}

/** A stream that decompresses `compression`; "none" passes the bytes through. */
export function decompressor(compression: Compression): Duplex {
  switch (compression) {
    case "gzip":
      return gzipStream();
    case "bzip2":
      return bzip2Stream();
    case "xz":
      return xzStream();
    case "zstd":
      return zstdStream();
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
  const stream = decompressor(compression);
  const parts: Buffer[] = [];
  let total = 0;
  const feeding = (async () => {
    for (let offset = 0; offset < bytes.length && !stream.destroyed; offset += 65536) {
      if (!stream.write(bytes.subarray(offset, offset + 65536))) await new Promise<void>((resolve) => stream.once("drain", resolve).once("close", resolve));
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
