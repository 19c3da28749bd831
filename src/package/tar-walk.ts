/**
 * Walks a tar archive to its end the way libarchive's tar reader does when pkg_install reads
 * the inner package through its per-block hash check (lib/pkg_signature.c: every entry's
 * header, archive_read_data_skip, until archive_read_next_header says ARCHIVE_EOF). As the C
 * reference of those calls shows (libarchive 3.6): the archive ends at the first all-zero
 * block, or wherever the data ends outside a header (a body cut short is skipped as far as it
 * goes, and the next header read meets the end); a header cut short, a header whose checksum
 * fails or a negative size is an error, so pkg_add refuses the package. Whatever follows the
 * end-of-archive block is never read.
 */

const BLOCK = 512;

export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

/** tar_atol: octal digits after optional blanks, or base-256 when the high bit of the first byte is set. */
function number(field: Uint8Array): number {
  const first = field[0] ?? 0;
  if (first & 0x80) {
    // Base-256 (GNU): two's complement, the sign in bit 6 of the first byte.
    let value = BigInt(first & 0x3f) - (first & 0x40 ? 64n : 0n);
    for (const byte of field.subarray(1)) value = value * 256n + BigInt(byte);
    return Number(value);
  }
  let value = 0;
  let at = 0;
  while (at < field.length && (field[at] === 0x20 || field[at] === 0x09)) at++;
  for (; at < field.length; at++) {
    const byte = field[at] as number;
    if (byte < 0x30 || byte > 0x37) break;
    value = value * 8 + (byte - 0x30);
  }
  return value;
}

/** libarchive's checksum(): the stored value equals the unsigned or the signed sum, the field counted as blanks. */
function checksumMatches(header: Uint8Array): boolean {
  const stored = number(header.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** pax extended header records "LEN key=value\n" (only size matters here). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(data.subarray(at, space).toString("latin1"));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new TarFormatError("a pax extended header is damaged");
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** Extension headers whose body describes the next entry (pax, GNU long names), bounded like libarchive's. */
const EXTENSION_TYPES = new Set(["x", "g", "L", "K"]);
const MAX_EXTENSION = 1024 * 1024;

export class TarWalker {
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Body bytes still to skip (or keep), then padding to the block boundary. */
  private remaining = 0;
  private padding = 0;
  private extension: { type: string; parts: Buffer[] } | undefined;
  private pax: Map<string, string> | undefined;
  private entries = 0;
  private finished = false;

  /** True once the end-of-archive block was read: the rest of the data is never looked at. */
  get ended(): boolean {
    return this.finished;
  }

  /** True once the first entry's header and body went past (tar-stream needs no more to read +CONTENTS). */
  get pastFirstEntry(): boolean {
    return this.finished || this.entries > 1 || (this.entries === 1 && this.remaining === 0);
  }

  /** Whether the data may end here: anywhere but inside a header or an extension header's body (read whole). */
  get atBoundary(): boolean {
    return this.finished || (this.headerFill === 0 && this.extension === undefined);
  }

  /** Walks the next bytes; throws TarFormatError where libarchive's reader fails. */
  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.finished) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.body(chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.bodyDone();
        continue;
      }
      if (this.padding > 0) {
        const take = Math.min(this.padding, chunk.length - at);
        this.padding -= take;
        at += take;
        continue;
      }
      const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.readHeader(this.header);
      }
    }
  }

  /** The end of the data: an error inside a header. */
  end(): void {
    if (!this.atBoundary) throw new TarFormatError("the tar archive ends inside a header (libarchive: truncated tar archive)");
  }

  private readHeader(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      this.finished = true;
      return;
    }
    if (!checksumMatches(header)) throw new TarFormatError(`the tar header at entry ${this.entries + 1} has a bad checksum (libarchive: damaged tar archive)`);
    const type = String.fromCharCode(header[156] as number);
    let size = number(header.subarray(124, 136));
    if (size < 0) throw new TarFormatError(`a tar entry has a negative size`);
    if (EXTENSION_TYPES.has(type)) {
      if (size > MAX_EXTENSION) throw new TarFormatError(`a tar extension header of ${size} bytes is implausibly large`);
      this.extension = { type, parts: [] };
      this.startBody(size);
      return;
    }
    const paxSize = this.pax?.get("size");
    const hadPax = this.pax !== undefined;
    if (paxSize !== undefined && /^\d+$/.test(paxSize)) size = Number(paxSize);
    this.pax = undefined;
    // header_common: links and devices have no body; a hard link's size counts only in a pax archive.
    if ("2346".includes(type) || (type === "1" && !hadPax)) size = 0;
    this.entries++;
    this.startBody(size);
  }

  private startBody(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.bodyDone();
  }

  private body(part: Uint8Array): void {
    this.extension?.parts.push(Buffer.from(part));
  }

  private bodyDone(): void {
    const extension = this.extension;
    if (!extension) return;
    this.extension = undefined;
    // A global pax header (g) describes no single entry and GNU long names only rename one: only x changes a size.
    if (extension.type === "x") this.pax = paxRecords(Buffer.concat(extension.parts));
  }
}
