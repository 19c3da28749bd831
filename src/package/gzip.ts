import { Transform, type Duplex } from "node:stream";
import * as zlib from "node:zlib";
import { OutputBlocks } from "./output-blocks.js";
import { settled } from "./settled.js";

/**
 * gzip as libarchive's gzip filter reads it for pkg_install (archive_read_support_filter_gzip.c),
 * with node:zlib inflating each member's deflate data:
 * - output reaches the tar reader in 64 KiB blocks filled across members (OutputBlocks);
 * - the first header must be one its bidder takes (peek_at_header: deflate, no reserved
 *   flag, every field present), or the data is not gzip at all;
 * - after a member's deflate data, 8 trailer bytes must follow, unchecked (an "XXX TODO"
 *   there; node:zlib's gunzip would check them); then a header that peek_at_header takes
 *   starts another member, and anything else (or nothing) ends the data quietly;
 * - input that ends inside a member is an error ("truncated gzip input").
 */

const TRAILER = 8;
/** A header longer than this (its name or comment never ends) is refused rather than held. */
const MAX_HEADER = 1024 * 1024;
/** Room for a download's small chunks to queue while zlib's thread works on one. */
const WRITABLE_HIGH_WATER_MARK = 256 * 1024;

/**
 * peek_at_header on the bytes so far: the header's length, "more" while `bytes` may be the
 * start of one, or "none" when they are not a header.
 */
export function peekGzipHeader(bytes: Buffer): number | "more" | "none" {
  if (bytes.length < 10) return "more";
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) return "none";
  const flags = bytes[3] ?? 0;
  if (flags & 0xe0) return "none"; // reserved flags
  let at = 10;
  if (flags & 4) {
    if (bytes.length < at + 2) return "more";
    at += 2 + bytes.readUInt16LE(at); // FEXTRA; its bytes are not looked for here (libarchive does not either)
  }
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue; // FNAME, FCOMMENT: zero-terminated
    if (bytes.length < at) return "more";
    const zero = bytes.indexOf(0, at);
    if (zero < 0) return "more";
    at = zero + 1;
  }
  if (flags & 2) {
    if (bytes.length < at + 2) return "more";
    at += 2; // FHCRC, not checked
  }
  return at;
}

class GzipFilter extends Transform {
  private phase: "header" | "member" | "trailer" | "ended" = "header";
  private members = 0;
  /** Input held between members: a header or trailer being collected, and what follows it. */
  private held: Buffer = Buffer.alloc(0);
  private inflate: zlib.InflateRaw | undefined;
  private readonly blocks = new OutputBlocks((data) => this.push(data));

  constructor(private readonly chunkSize: number) {
    super({ writableHighWaterMark: WRITABLE_HIGH_WATER_MARK });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.accept(chunk).then(() => callback(), callback);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inflate?.destroy();
    callback(error);
  }

  /** Takes the next input bytes; resolves once they are used (ContentsReader may then reuse the buffer). */
  private async accept(chunk: Buffer): Promise<void> {
    let data = chunk;
    while (data.length > 0 && this.phase !== "ended" && !this.destroyed) {
      if (this.phase === "member") data = await this.inflateMember(data);
      else {
        // A copy: held bytes outlive the caller's buffer.
        this.held = Buffer.concat([this.held, data]);
        data = this.between(false) ?? Buffer.alloc(0);
      }
    }
  }

  /**
   * Moves on from a trailer or header in `held` once it is complete; returns the bytes after
   * a header, which start a member's deflate data. `atEnd`: no more input will come.
   */
  private between(atEnd: boolean): Buffer | undefined {
    if (this.phase === "trailer") {
      if (this.held.length < TRAILER) {
        // consume_trailer: fewer than 8 bytes after the deflate data fail the read.
        if (atEnd) throw new Error("the gzip trailer is cut short");
        return undefined;
      }
      this.held = this.held.subarray(TRAILER);
      this.phase = "header";
    }
    const header = peekGzipHeader(this.held);
    if (header === "more" && !atEnd) {
      if (this.held.length > MAX_HEADER) throw new Error("a gzip header is over 1 MiB long");
      return undefined;
    }
    if (typeof header !== "number") {
      // The bidder takes only a whole header; after a member, anything else is the quiet end of the data.
      if (this.members === 0) throw new Error("the data is not gzip");
      this.endOfData();
      return undefined;
    }
    // consume_header skips an FEXTRA field as long as the input goes on.
    if (header > this.held.length) {
      if (atEnd) throw new Error("the gzip header is cut short");
      return undefined;
    }
    const rest = this.held.subarray(header);
    this.held = Buffer.alloc(0);
    this.members++;
    this.phase = "member";
    // Large output chunks: with zlib's 16 KiB default, a 256 MiB package makes 16,000 callbacks.
    const inflate = zlib.createInflateRaw({ chunkSize: this.chunkSize });
    inflate.on("data", (data: Buffer) => this.blocks.add(data));
    inflate.on("error", (error) => this.destroy(error));
    this.inflate = inflate;
    return rest;
  }

  /** Inflates `data`; once the member's deflate data ends, returns (a copy of) the bytes after it. */
  private async inflateMember(data: Buffer): Promise<Buffer> {
    const inflate = this.inflate as zlib.InflateRaw;
    const before = inflate.bytesWritten;
    await settled(inflate, (done) => inflate.write(data, done));
    // bytesWritten counts the input the deflate data used: less than given once it ended.
    const used = inflate.bytesWritten - before;
    if (this.destroyed || (used === data.length && !inflate.readableEnded)) return Buffer.alloc(0);
    // Every byte of output goes out before what follows the member.
    if (!inflate.readableEnded) await settled(inflate, (done) => inflate.once("end", done));
    this.inflate = undefined;
    this.phase = "trailer";
    return Buffer.from(data.subarray(used));
  }

  private async finish(): Promise<void> {
    while (!this.destroyed && this.phase !== "ended") {
      if (this.phase === "member") {
        const inflate = this.inflate as zlib.InflateRaw;
        await settled(inflate, (done) => inflate.once("end", done).end());
        // Deflate data cut short fails in zlib (and destroys this stream); complete, it lacks its trailer.
        if (!this.destroyed) throw new Error("the gzip data is cut short");
        return;
      }
      const rest = this.between(true);
      if (rest) await this.accept(rest);
    }
  }

  /** The data ends here: the block filled so far goes out, later bytes are ignored. */
  private endOfData(): void {
    this.phase = "ended";
    this.blocks.end();
  }
}

/** A stream that decompresses gzip as above, in output chunks of `chunkSize` from zlib. */
export function gzipStream(chunkSize: number): Duplex {
  return new GzipFilter(chunkSize);
}
