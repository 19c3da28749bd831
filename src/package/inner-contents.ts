import type { Duplex } from "node:stream";
import { extract } from "tar-stream";
import { decompressor, detectCompression, MAGIC_BYTES, stackFilters, type StackedFilters, WALK_INFLATE_CHUNK } from "./compression.js";
import { PackageError } from "./errors.js";
import { TarWalker } from "./tar-walk.js";

/**
 * Reads `@name` from the inner package's first entry, +CONTENTS, while the package flows
 * past for hashing: bytes are fed in as they arrive and the reader stops at the end of
 * that first entry. pkg_install does not compare this name with +PKG_HASH (an XXX in
 * pkg_signature.c); pkgtrust does. The compression is told by its magic bytes
 * (compression.ts): gzip, bzip2, xz, zstd or none, as libarchive reads them for pkg_install.
 *
 * A verifier reads on to the end of the archive (`toEnd`), as pkg_install's signature check
 * does through libarchive (tar-walk.ts): a validly signed package whose tar is damaged or cut
 * short after +CONTENTS is refused as pkg_add refuses it. A signer needs only the name.
 */

/** A packing list larger than this is refused rather than buffered. */
export const MAX_CONTENTS = 4 * 1024 * 1024;
/** Decompressed bytes allowed before +CONTENTS is complete (tar headers, pax records included). */
const MAX_TAR_PREFIX = MAX_CONTENTS + 1024 * 1024;
/** Input given to the decompressor at a time (below bzip2's smallest block, 100 kB). */
const FEED_SLICE = 64 * 1024;
/** The same for zlib's gzip, which works off the main thread and honours backpressure: whole read chunks. */
const ASYNC_FEED_SLICE = 1024 * 1024;
/** Chunks from this size on go to zlib without a copy (see writeSlice). */
const ZERO_COPY_MIN = 256 * 1024;
/** Decompressed bytes between two calls of `collect` (see the constructor): the peak RSS of a big package's walk against the calls' cost. */
const COLLECT_EVERY = 4 * 1024 * 1024;

/**
 * Decompressed bytes a whole inner package of `size` bytes may unpack to (4 GiB plus 256
 * times its size): beyond that it is a decompression bomb, whose walk would take hours. Not
 * a pkg_install rule (libarchive has no limit): pkgtrust refuses such a package.
 */
export const unpackedLimit = (size: number) => 4 * 1024 ** 3 + 256 * size;

/** `@name` of a packing list: the first one, as pkg_install's find_plist returns. */
export function packingListName(contents: string): string | undefined {
  for (const line of contents.split("\n")) {
    const match = /^@name[ \t]+(\S+)[ \t\r]*$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export class ContentsReader {
  private sink: Duplex | undefined;
  /** The decompressors stacked on `sink` (stackFilters). */
  private stacked: StackedFilters | undefined;
  private tar: ReturnType<typeof extract> | undefined;
  private started = false;
  /** The first bytes, held until there are enough to tell the compression. */
  private head: Buffer[] = [];
  private headLength = 0;
  /** A decompression error, reported only if +CONTENTS was not complete before it. */
  private decompressError: Error | undefined;
  private settled = false;
  private readonly result: Promise<string>;
  private resolve!: (name: string) => void;
  private reject!: (error: unknown) => void;
  /** With toEnd: the walk to the end of the archive, and @name once +CONTENTS is read. */
  private readonly walker: TarWalker | undefined;
  private readonly maxUnpacked: number;
  private name: string | undefined;
  /** Bytes fed at a time: small for the synchronous decoders (see write), whole chunks for zlib. */
  private slice = FEED_SLICE;
  /** Whether chunks go to zlib, which may have them without a copy (see writeSlice). */
  private zlibInput = false;
  /** Wakes the write that waits, once the reader settles. */
  private wake: (() => void) | undefined;
  /** With toEnd: the walk reached the archive's end (its end-of-archive block, or the data's end between entries). */
  private walked = false;
  private readonly collect: (() => void) | undefined;

  /**
   * `toEnd`: read the whole archive, as a verifier must; `innerSize` bounds what it may unpack
   * to (or `maxUnpacked`). `collect`: called after every 4 MiB of decompressed output, to free
   * the decompressor's spent output buffers (a young-generation collection, src/young-gc.ts).
   */
  constructor(options: { toEnd?: { innerSize: number; maxUnpacked?: number }; collect?: () => void } = {}) {
    this.collect = options.collect;
    this.walker = options.toEnd ? new TarWalker() : undefined;
    this.maxUnpacked = options.toEnd ? (options.toEnd.maxUnpacked ?? unpackedLimit(options.toEnd.innerSize)) : MAX_TAR_PREFIX;
    this.result = new Promise<string>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Avoid an unhandled rejection when the caller fails for another reason first.
    this.result.catch(() => undefined);
  }

  /** True once @name is known or reading failed: the rest of the package need not be fed. */
  get done(): boolean {
    return this.settled;
  }

  /**
   * Feeds the next bytes of the inner package; resolves when the parser has taken them.
   * In slices, each awaited: a decoder that turns one input chunk into output synchronously
   * (bzip2, zstd without node:zlib) would otherwise decode a whole read chunk of blocks past +CONTENTS.
   */
  async write(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.length && !this.settled; ) {
      // The size is read before the slice is fed: the first one tells the compression, which may change it.
      const end = offset + this.slice;
      await this.writeSlice(chunk.subarray(offset, end));
      offset = end;
    }
  }

  private async writeSlice(chunk: Uint8Array): Promise<void> {
    let data: Uint8Array;
    const zeroCopy = this.zlibInput && chunk.length >= ZERO_COPY_MIN;
    if (!this.started) {
      // Held across pulls: a copy (the source may reuse its buffers).
      const copy = Buffer.from(chunk);
      this.head.push(copy);
      this.headLength += copy.length;
      if (this.headLength < MAGIC_BYTES) return;
      data = this.startWithHead();
    } else {
      // zlib has used a chunk when the write's callback comes: a big one (a file's read
      // chunk) is fed as it is and waited for. Smaller ones (a download's) are copied and
      // queued, so that zlib's thread is not waited for at every one; the other
      // decoders keep the chunk until they get to it: a copy too.
      data = zeroCopy ? chunk : Buffer.from(chunk);
    }
    const sink = this.sink;
    if (!sink || this.settled) return;
    // One waiter at a time, in a field that the next write replaces: a reaction registered on
    // `result` per write would keep every written chunk alive until the end (a whole download).
    await new Promise<void>((resolve) => {
      const done = () => {
        sink.off("drain", done);
        sink.off("close", done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      this.wake = done;
      sink.on("close", done);
      if (zeroCopy) sink.write(data, () => done());
      else if (sink.write(data)) done();
      else sink.on("drain", done);
    });
    // A decompressor stacked on this one's output (a gzip inside an xz) takes it in at its own
    // pace; nothing is awaited on the usual path, a single compression.
    const stackedWaiting = this.stacked?.drained();
    if (stackedWaiting) await stackedWaiting;
  }

  /** Ends the input and returns @name. */
  async end(): Promise<string> {
    if (!this.started && this.headLength > 0) this.sink?.write(this.startWithHead());
    if (!this.started) this.fail("PKG_INNER_FORMAT", "the inner package is empty");
    if (!this.settled) this.sink?.end();
    return this.result;
  }

  private startWithHead(): Buffer {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.start(head);
    return head;
  }

  private fail(code: "PKG_INNER_FORMAT" | "PKG_INNER_COMPRESSION" | "PKG_CONTENTS_TOO_LARGE" | "PKG_INNER_TOO_LARGE", message: string, cause?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(new PackageError(code, message, { cause }));
    this.wake?.();
    this.stacked?.destroy();
  }

  /** @name is known; with toEnd, the walk must also reach the end of the archive. */
  private succeed(name: string): void {
    if (this.settled) return;
    this.name = name;
    if (this.walker && !this.walked) {
      this.tar?.destroy();
      return;
    }
    this.settled = true;
    this.resolve(name);
    this.wake?.();
    this.stacked?.destroy();
  }

  /** Walks decompressed bytes (toEnd); the archive's end settles the reader once @name is known. */
  private walk(data: Buffer): void {
    const walker = this.walker;
    if (!walker || walker.ended || this.settled) return;
    try {
      walker.write(data);
    } catch (error) {
      this.fail("PKG_INNER_FORMAT", `the inner package is not a whole tar archive: ${(error as Error).message}`, error);
      return;
    }
    if (walker.ended) this.walkedToEnd();
  }

  private walkedToEnd(): void {
    this.walked = true;
    if (this.name !== undefined) this.succeed(this.name);
  }

  /** The decompressed data ended, cleanly or with `error`: libarchive's ARCHIVE_EOF needs a block boundary and no error. */
  private walkEnded(error?: Error): void {
    const walker = this.walker;
    if (!walker || this.walked || this.settled) return;
    if (error) {
      this.fail("PKG_INNER_FORMAT", `the inner package cannot be decompressed to its end: ${error.message}`, error);
      return;
    }
    try {
      walker.end();
    } catch (failure) {
      this.fail("PKG_INNER_FORMAT", `the inner package is cut short: ${(failure as Error).message}`, failure);
      return;
    }
    this.walkedToEnd();
  }

  /** Whether +CONTENTS has yet to go past, and tar-stream still needs the bytes: the walker knows at once, tar-stream tells the name a little later. */
  private beforeContentsEnd(): boolean {
    return this.walker ? !this.walker.pastFirstEntry : this.name === undefined;
  }

  private start(head: Uint8Array): void {
    this.started = true;
    const detected = detectCompression(head);
    if ("unreadable" in detected) {
      this.fail("PKG_INNER_COMPRESSION", `the inner package is ${detected.unreadable}-compressed, which pkgtrust cannot read`);
      return;
    }
    const { compression } = detected;
    if (compression === "gzip" || compression === "none") this.slice = ASYNC_FEED_SLICE;
    // Only zlib is done with its input at the write's callback and emits new buffers; a plain
    // tar passes the chunk itself on to tar-stream, which may hold it longer.
    this.zlibInput = compression === "gzip";
    const tar = extract();
    this.tar = tar;
    const inflateChunk = this.walker ? WALK_INFLATE_CHUNK : undefined;
    const input = decompressor(compression, this.maxUnpacked, inflateChunk);
    // A compression bomb or a huge pax header before +CONTENTS must not fill memory; the
    // whole walk is bounded too. The input is never paused (tar-stream is fed, not piped, and
    // holds at most the capped prefix), so a push decoder's output is walked as it comes, never held.
    let decompressed = 0;
    let collected = 0;
    const data = (data: Buffer) => {
      decompressed += data.length;
      const prefix = this.beforeContentsEnd();
      if (prefix && decompressed > MAX_TAR_PREFIX) this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS does not end within the first ${MAX_TAR_PREFIX} bytes of the inner package`);
      else if (decompressed > this.maxUnpacked) this.fail("PKG_INNER_TOO_LARGE", `the inner package unpacks to more than ${this.maxUnpacked} bytes`);
      else {
        if (prefix && !tar.destroyed) tar.write(data);
        this.walk(data);
      }
      if (this.collect && decompressed - collected >= COLLECT_EVERY) {
        collected = decompressed;
        this.collect();
      }
    };
    this.stacked = stackFilters(input, { maxOutput: this.maxUnpacked, inflateChunk }, {
      data,
      // libarchive ends a compressed stream quietly where the data stops making sense
      // (trailing bytes after a gzip member): end the tar there, and report the error only if
      // +CONTENTS is not complete by then.
      error: (error) => {
        this.decompressError ??= error;
        if (this.beforeContentsEnd()) tar.end(Buffer.alloc(0));
        this.walkEnded(error);
      },
      end: () => {
        if (this.beforeContentsEnd()) tar.end(Buffer.alloc(0));
        this.walkEnded();
      },
    });
    const broken = (what: string, error?: Error) => {
      const cause = this.decompressError ?? error;
      if (this.decompressError) this.fail("PKG_INNER_FORMAT", `the inner package (${compression}) cannot be decompressed: ${this.decompressError.message}`, cause);
      else this.fail("PKG_INNER_FORMAT", what, cause);
    };
    tar.on("error", (error: Error) => broken(`the inner package${compression === "none" ? "" : ` (${compression})`} is not a tar archive: ${error.message}`, error));
    tar.on("finish", () => broken("the inner package has no entry"));
    tar.on("entry", (header, stream) => {
      // pkg_install (extract_pkgname): the first entry must be +CONTENTS.
      if (header.name !== "+CONTENTS" || (header.type ?? "file") !== "file") {
        this.fail("PKG_INNER_FORMAT", `the inner package starts with '${header.name}', not +CONTENTS`);
        return;
      }
      if ((header.size ?? 0) > MAX_CONTENTS) {
        this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS has ${header.size} bytes, more than the ${MAX_CONTENTS} allowed`);
        return;
      }
      const parts: Buffer[] = [];
      stream.on("data", (part: unknown) => parts.push(part as Buffer));
      stream.on("error", (error: Error) => this.fail("PKG_INNER_FORMAT", `+CONTENTS cannot be read: ${error.message}`, error));
      stream.on("end", () => {
        const name = packingListName(Buffer.concat(parts).toString("utf8"));
        if (name === undefined) this.fail("PKG_INNER_FORMAT", "+CONTENTS has no @name line");
        else this.succeed(name);
      });
    });
    this.sink = input;
  }
}
