import { PackageError } from "./errors.js";

/** A copy (Buffer#slice would only make a view). */
const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/**
 * Pull-style reading of exact byte counts from a chunk stream (a file read stream or an
 * HTTP body), so that the package is read once, in order, and never held whole.
 * A chunk is used only until the next one is requested (what is kept longer is copied),
 * so a source may reuse its buffers; what `stream` yields must be consumed before the
 * caller pulls again.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  /** Bytes handed out so far, for error details. */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Buffers until `n` bytes are pending or the input ends; returns false at the end. */
  private async fill(n: number): Promise<boolean> {
    if (this.pending.length >= n) return true;
    // The source may reuse a chunk's buffer once the next is pulled (fileChunks does):
    // whatever is held across a pull is a copy.
    const chunks: Uint8Array[] = this.pending.length > 0 ? [copy(this.pending)] : [];
    let total = this.pending.length;
    while (total < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        total += next.value.length;
        chunks.push(total < n ? copy(next.value) : next.value);
      }
    }
    if (chunks.length === 1) this.pending = chunks[0] as Uint8Array;
    else if (chunks.length > 1) this.pending = Buffer.concat(chunks, total);
    return total >= n;
  }

  /** Up to `n` bytes without consuming them (fewer only at the end of the input). */
  async peek(n: number): Promise<Uint8Array> {
    await this.fill(n);
    return this.pending.subarray(0, n);
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Exactly `n` bytes; PKG_TRUNCATED if the input ends first. */
  async read(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.fill(n))) {
      throw new PackageError("PKG_TRUNCATED", `the package ends inside ${what} (offset ${this.offset + this.pending.length})`, { detail: { offset: this.offset + this.pending.length } });
    }
    // A copy: the source may reuse its buffers (see fileChunks).
    const out = copy(this.pending.subarray(0, n));
    this.pending = this.pending.subarray(n);
    this.offset += n;
    return out;
  }

  /** Streams exactly `n` bytes in the chunks they arrive in; PKG_TRUNCATED if the input ends first. */
  async *stream(n: number, what: string): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill(1))) {
        throw new PackageError("PKG_TRUNCATED", `the package ends inside ${what} (offset ${this.offset}, ${left} bytes missing)`, { detail: { offset: this.offset, missing: left } });
      }
      const take = Math.min(left, this.pending.length);
      const out = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      this.offset += take;
      left -= take;
      yield out;
    }
  }

  /** Stops reading the input (closes a file or HTTP body early). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
