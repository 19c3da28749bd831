import type { Duplex } from "node:stream";
import { type Compression, decompressor, detectCompression, MAGIC_BYTES, stackFilters, type StackedFilters, WALK_INFLATE_CHUNK } from "./compression.js";
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
/** The same for zlib's gzip, which works off the main thread and honours backpressure: whole read chunks for a walk to the end. */
const ASYNC_FEED_SLICE = 1024 * 1024;
/** zlib's output chunks while only +CONTENTS is read (a signer's): about what one 64 KiB slice of input makes. */
const CONTENTS_INFLATE_CHUNK = 64 * 1024;
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
  private started = false;
  /** The first bytes, held until there are enough to tell the compression. */
  private head: Buffer[] = [];
  private headLength = 0;
  private settled = false;
  private readonly result: Promise<string>;
  private resolve!: (name: string) => void;
  private reject!: (error: unknown) => void;
  /** Reads the tar as libarchive does: +CONTENTS is its first entry, and with toEnd the walk goes on to the archive's end. */
  private readonly walker: TarWalker;
  private readonly toEnd: boolean;
  private readonly maxUnpacked: number;
  private name: string | undefined;
  /** Whether the first entry's header was judged (+CONTENTS, not too large, not sparse). */
  private firstJudged = false;
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
    this.toEnd = options.toEnd !== undefined;
    this.walker = new TarWalker({ keepFirst: MAX_CONTENTS, stopAfterFirst: !this.toEnd });
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
    if (this.toEnd && !this.walked) return;
    this.settled = true;
    this.resolve(name);
    this.wake?.();
    this.stacked?.destroy();
  }

  /** Walks decompressed bytes; +CONTENTS is judged as soon as its header and then its body went past. */
  private walk(data: Buffer): void {
    const walker = this.walker;
    if (this.settled || walker.ended) return;
    try {
      walker.write(data);
    } catch (error) {
      this.fail("PKG_INNER_FORMAT", `the inner package is not a whole tar archive: ${(error as Error).message}`, error);
      return;
    }
    this.readContents();
    if (walker.ended) this.walkedToEnd();
  }

  /**
   * pkg_install's read_meta_data_from_archive: +CONTENTS is the entry of that pathname, its
   * data read whatever its type (a directory's is empty); pkgtrust requires it first (row 3b).
   */
  private readContents(): void {
    const first = this.walker.firstEntry;
    if (!first || this.name !== undefined || this.settled) return;
    if (!this.firstJudged) {
      this.firstJudged = true;
      if (first.name !== "+CONTENTS") return this.fail("PKG_INNER_FORMAT", `the inner package starts with '${first.name}', not +CONTENTS`);
      if (first.size > MAX_CONTENTS) return this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS has ${first.size} bytes, more than the ${MAX_CONTENTS} allowed`);
      // Its data would be the map's pieces with holes between them, not the bytes stored: not whole (pkgtrust's rule).
      if (first.sparse) return this.fail("PKG_INNER_FORMAT", "+CONTENTS is a sparse file, so it is not whole");
    }
    const body = this.walker.firstBody;
    if (!body) return;
    const name = packingListName(body.toString("utf8"));
    if (name === undefined) this.fail("PKG_INNER_FORMAT", "+CONTENTS has no @name line");
    else this.succeed(name);
  }

  private walkedToEnd(): void {
    this.walked = true;
    if (this.name !== undefined) return this.succeed(this.name);
    if (!this.walker.firstEntry) this.fail("PKG_INNER_FORMAT", "the inner package has no entry");
    // The data ended inside +CONTENTS: libarchive skips a body cut short, but pkg_add cannot read it whole.
    else this.fail("PKG_INNER_FORMAT", "+CONTENTS is cut short, so it is not whole");
  }

  /** The decompressed data ended, cleanly or with `error`: libarchive's ARCHIVE_EOF needs a block boundary and no error. */
  private dataEnded(compression: Compression, error?: Error): void {
    if (this.settled) return;
    if (error) {
      // Without toEnd the reader settled as soon as +CONTENTS was read: what fails after it does not matter.
      const where = this.name === undefined ? "" : " to its end";
      this.fail("PKG_INNER_FORMAT", `the inner package${compression === "none" ? "" : ` (${compression})`} cannot be decompressed${where}: ${error.message}`, error);
      return;
    }
    try {
      this.walker.end();
    } catch (failure) {
      this.fail("PKG_INNER_FORMAT", `the inner package is cut short: ${(failure as Error).message}`, failure);
      return;
    }
    this.walkedToEnd();
  }

  private start(head: Uint8Array): void {
    this.started = true;
    const detected = detectCompression(head);
    if ("unreadable" in detected) {
      this.fail("PKG_INNER_COMPRESSION", `the inner package is ${detected.unreadable}-compressed, which pkgtrust cannot read`);
      return;
    }
    const { compression } = detected;
    // A signer reads only +CONTENTS: small slices, so that little past it is decompressed.
    if ((compression === "gzip" || compression === "none") && this.toEnd) this.slice = ASYNC_FEED_SLICE;
    // Only zlib is done with its input at the write's callback and emits new buffers; the
    // walker copies what it keeps, but a plain tar's chunk may wait in the pass-through stream.
    this.zlibInput = compression === "gzip";
    const inflateChunk = this.toEnd ? WALK_INFLATE_CHUNK : CONTENTS_INFLATE_CHUNK;
    const input = decompressor(compression, this.maxUnpacked, inflateChunk);
    // A compression bomb or a huge pax header before +CONTENTS must not fill memory; the
    // whole walk is bounded too. The input is never paused, so a push decoder's output is
    // walked as it comes, never held.
    let decompressed = 0;
    let collected = 0;
    const data = (data: Buffer) => {
      decompressed += data.length;
      if (!this.walker.pastFirstEntry && decompressed > MAX_TAR_PREFIX) this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS does not end within the first ${MAX_TAR_PREFIX} bytes of the inner package`);
      else if (decompressed > this.maxUnpacked) this.fail("PKG_INNER_TOO_LARGE", `the inner package unpacks to more than ${this.maxUnpacked} bytes`);
      else this.walk(data);
      if (this.collect && decompressed - collected >= COLLECT_EVERY) {
        collected = decompressed;
        this.collect();
      }
    };
    this.stacked = stackFilters(input, { maxOutput: this.maxUnpacked, inflateChunk }, {
      data,
      error: (error) => this.dataEnded(compression, error),
      end: () => this.dataEnded(compression),
    });
    this.sink = input;
  }
}
