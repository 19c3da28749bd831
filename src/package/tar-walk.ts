/**
 * Walks a tar archive to its end the way libarchive's tar reader does when pkg_install reads
 * the inner package through its per-block hash check (lib/pkg_signature.c: every entry's
 * header, archive_read_data_skip, until archive_read_next_header says ARCHIVE_EOF). As the C
 * reference of those calls shows (libarchive 3.6.2, archive_read_support_format_tar.c): the
 * archive ends at the first all-zero block, or wherever the data ends outside a header (a body
 * cut short is skipped as far as it goes, and the next header read meets the end); a header
 * cut short, a header whose checksum fails, a bad size or a malformed extension is an error
 * (or a warning, which ends pkg_install's loop just as well), so pkg_add refuses the package.
 * Whatever follows the end-of-archive block is never read.
 *
 * One entry is a chain of headers (tar_read_header recursing): extension headers (pax x and
 * g, GNU L and K, Solaris A, GNU V) and then the entry's own header; the pax records are
 * applied after that header, as header_pax_extensions does.
 */

const BLOCK = 512;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** Below this a number times 10 plus a digit is still exact (2^53 / 16, for bases up to 10). */
const EXACT_BELOW = 2 ** 49;

export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

/** tar_atol_base_n: blanks, an optional minus, digits of the base until anything else; INT64_MAX (or MIN) on overflow. */
function atolBase(field: Uint8Array, base: number): bigint {
  let at = 0;
  while (at < field.length && (field[at] === 0x20 || field[at] === 0x09)) at++;
  let negative = false;
  if (at < field.length && field[at] === 0x2d) {
    negative = true;
    at++;
  }
  // Digits go into a number while it stays exact (every octal field of a header does), then into a bigint.
  let small = 0;
  for (; at < field.length && small < EXACT_BELOW; at++) {
    const digit = (field[at] as number) - 0x30;
    if (digit < 0 || digit >= base) return BigInt(negative ? -small : small);
    small = small * base + digit;
  }
  let value = BigInt(small);
  for (; at < field.length; at++) {
    const digit = (field[at] as number) - 0x30;
    if (digit < 0 || digit >= base) break;
    value = value * BigInt(base) + BigInt(digit);
    if (!negative && value > INT64_MAX) return INT64_MAX;
    if (negative && -value < INT64_MIN) return INT64_MIN;
  }
  return negative ? -value : value;
}

/** tar_atol256: two's complement with the sign in bit 6 of the first byte; INT64_MAX or MIN when it does not fit 64 bits. */
function atol256(field: Uint8Array): bigint {
  const first = field[0] as number;
  const negative = (first & 0x40) !== 0;
  let value = BigInt(negative ? first | 0x80 : first & 0x7f) - (negative ? 256n : 0n);
  for (const byte of field.subarray(1)) value = value * 256n + BigInt(byte);
  if (value > INT64_MAX) return INT64_MAX;
  if (value < INT64_MIN) return INT64_MIN;
  return value;
}

/** tar_atol: octal, or base-256 when the high bit of the first byte is set. */
function number(field: Uint8Array): bigint {
  return (field[0] as number) & 0x80 ? atol256(field) : atolBase(field, 8);
}

/** libarchive's checksum(): only blanks, NULs and octal digits in the field; the value equals the unsigned or the signed sum. */
function checksumMatches(header: Uint8Array): boolean {
  const field = header.subarray(148, 156);
  if (!field.every((c) => c === 0x20 || c === 0 || (c >= 0x30 && c <= 0x37))) return false;
  const stored = number(field);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === BigInt(unsigned) || stored === BigInt(signed);
}

/** validate_number_field (libarchive 3.6): base-256, or blanks, octal digits, then only blanks and NULs. */
function validNumber(field: Uint8Array): boolean {
  const marker = field[0] as number;
  if (marker === 128 || marker === 255 || marker === 0) return true;
  let i = 0;
  while (i < field.length && field[i] === 0x20) i++;
  while (i < field.length && (field[i] as number) >= 0x30 && (field[i] as number) <= 0x37) i++;
  return field.subarray(i).every((c) => c === 0x20 || c === 0);
}

/**
 * archive_read_format_tar_bid on a header: 0 when it cannot be tar (a bad checksum, typeflag
 * or number field: the mode's first byte may be 0x80, a base-256 marker), else 48, plus 56 for the POSIX or GNU magic and version, plus 2.
 */
function bid(header: Buffer): number {
  if (!checksumMatches(header)) return 0;
  let value = 48;
  const magic = header.subarray(257, 265);
  if (magic.equals(USTAR_VERSION) || magic.equals(GNU_MAGIC)) value += 56;
  const type = header[156] as number;
  const letterOrDigit = (type >= 0x30 && type <= 0x39) || (type >= 0x41 && type <= 0x5a) || (type >= 0x61 && type <= 0x7a);
  if (type !== 0 && !letterOrDigit) return 0;
  // mode, uid, gid, size, mtime, rdevmajor, rdevminor
  const fields: [number, number][] = [[100, 8], [108, 8], [116, 8], [124, 12], [136, 12], [329, 8], [337, 8]];
  if (!fields.every(([at, width]) => validNumber(header.subarray(at, at + width)))) return 0;
  return value + 2;
}

/** The bytes of a C string: up to the first NUL. */
const cString = (bytes: Buffer): Buffer => {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
};

const damaged = (what: string) => new TarFormatError(`${what} (libarchive: damaged tar archive)`);

/**
 * pax_header: "LEN key=value\n" records filling the whole body (a NUL in it is no end), parsed in place as
 * libarchive does (each record's newline and '=' become NULs, which matters when two x
 * headers share its one buffer); any malformed record is an error. Calls `attribute` per record.
 */
function parsePax(text: Buffer, attribute: (key: string, value: Buffer) => void): void {
  let attr = 0;
  let length = text.length;
  while (length > 0) {
    let lineLength = 0;
    let p = attr;
    let left = length;
    while (left > 0) {
      const c = text[p] as number;
      if (c === 0x20) {
        p++;
        break;
      }
      if (c < 0x30 || c > 0x39) throw damaged("a pax extended header is malformed");
      lineLength = lineLength * 10 + (c - 0x30);
      if (lineLength > 999999) throw damaged("a pax extended attribute is over 1 MB");
      p++;
      left--;
    }
    if (lineLength > length || lineLength < 1 || text[attr + lineLength - 1] !== 0x0a) throw damaged("a pax extended attribute is malformed");
    text[attr + lineLength - 1] = 0;
    if (text[p] === 0x3d) throw damaged("a pax extended attribute has no key");
    let equals = p;
    while (text[equals] !== 0 && text[equals] !== 0x3d) equals++;
    if (text[equals] === 0) throw damaged("a pax extended attribute has no '='");
    text[equals] = 0;
    attribute(text.subarray(p, equals).toString("latin1"), cString(text.subarray(equals + 1)));
    attr += lineLength;
    length -= lineLength;
  }
}

/** Headers that describe the next one (tar_read_header recurses after reading their body). */
const EXTENSION_TYPES = new Set(["x", "X", "g", "L", "K", "A"]);
/** read_body_to_string's bound on an extension header's body. */
const MAX_EXTENSION = 1024 * 1024;
/** tar_read_header's bound on the headers of one entry ("Too many special headers"). */
const MAX_DEPTH = 32;

type Format = "pax" | "gnu" | "ustar" | "tar" | undefined;

export class TarWalker {
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Body bytes still to skip (or keep), then padding to the block boundary. */
  private remaining = 0;
  private padding = 0;
  /** The extension header whose body (and padding: read_body_to_string reads whole blocks) is being read. */
  private extension: { type: string; size: number; parts: Buffer[] } | undefined;
  /** The headers of the entry being read so far, and what its extension headers said. */
  private chain = newChain();
  /** GNU sparse extension blocks still to read as part of the header (gnu_sparse_old_read). */
  private sparseBlocks = false;
  /** archive_format as the headers so far set it (hard links' sizes depend on it). */
  private format: Format;
  private entries = 0;
  private started = false;
  private finished = false;

  /** True once the end-of-archive block was read: the rest of the data is never looked at. */
  get ended(): boolean {
    return this.finished;
  }

  /** True once the first entry's header and body went past (tar-stream needs no more to read +CONTENTS). */
  get pastFirstEntry(): boolean {
    return this.finished || this.entries > 1 || (this.entries === 1 && this.remaining === 0);
  }

  /** Whether the data may end here: anywhere but inside a header's chain or an extension header's body. */
  get atBoundary(): boolean {
    return this.finished || (this.headerFill === 0 && this.extension === undefined && this.chain.depth === 0 && !this.sparseBlocks);
  }

  /** Walks the next bytes; throws TarFormatError where libarchive's reader fails. */
  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.finished) {
      if (this.remaining > 0 && !this.sparseBlocks) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.extension?.parts.push(Buffer.from(chunk.subarray(at, at + take)));
        this.remaining -= take;
        at += take;
        continue;
      }
      if (this.padding > 0 && !this.sparseBlocks) {
        const take = Math.min(this.padding, chunk.length - at);
        this.padding -= take;
        at += take;
        continue;
      }
      if (this.extension) {
        this.extensionDone();
        continue;
      }
      const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        if (this.sparseBlocks) this.sparseBlock(this.header);
        else this.readHeader(this.header);
      }
    }
    if (this.extension && this.remaining === 0 && this.padding === 0) this.extensionDone();
  }

  /** The end of the data: an error inside a header, an extension's body or a chain of headers. */
  end(): void {
    if (this.atBoundary) return;
    // tar_read_header: the end of the data after an extension header is "Damaged tar archive",
    // except after a global pax header alone (header_pax_global hands ARCHIVE_EOF on).
    if (this.headerFill === 0 && this.extension === undefined && !this.sparseBlocks && this.chain.onlyGlobal) return;
    throw new TarFormatError("the tar archive ends inside a header or its extension headers (libarchive: truncated or damaged tar archive)");
  }

  private readHeader(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      // An end-of-archive block after an extension header (other than g alone) is "Damaged tar archive".
      if (this.chain.depth > 0 && !this.chain.onlyGlobal) throw damaged("an extension header is followed by the end of the archive");
      this.finished = true;
      return;
    }
    // archive_read_support_format_all: libarchive reads the data as tar only if the tar bidder takes its first block.
    if (!this.started && bid(header) === 0) throw new TarFormatError("the first block is not a tar header libarchive's bidder takes (libarchive: unrecognized archive format)");
    this.started = true;
    if (!checksumMatches(header)) throw damaged(`the tar header at entry ${this.entries + 1} has a bad checksum`);
    if (++this.chain.depth > MAX_DEPTH) throw new TarFormatError("more than 32 headers for one entry (libarchive: too many special headers)");
    const type = String.fromCharCode(header[156] as number);
    // header_volume: no body, the next header is read at once (and, as after a g header, the end may come there).
    if (type === "V") return;
    if (EXTENSION_TYPES.has(type)) {
      if (type !== "g") this.chain.onlyGlobal = false;
      if (type === "x" || type === "X" || type === "g" || type === "A") this.format = "pax";
      const size = number(header.subarray(124, 136));
      // read_body_to_string: a negative size or one above 1 MiB is fatal.
      if (size < 0n || size > BigInt(MAX_EXTENSION)) throw new TarFormatError(`a tar extension header of ${size} bytes is refused (libarchive: special header too large)`);
      this.extension = { type, size: Number(size), parts: [] };
      this.remaining = Number(size);
      this.padding = (BLOCK - (Number(size) % BLOCK)) % BLOCK;
      return;
    }
    this.entryHeader(header, type);
  }

  /** An extension header's body and padding are read: keep what the entry needs. */
  private extensionDone(): void {
    const extension = this.extension;
    if (!extension) return;
    this.extension = undefined;
    const body = Buffer.concat(extension.parts);
    if (extension.type === "x" || extension.type === "X") {
      // header_pax_extensions reads every x body into one buffer: the last one read is parsed once per x header.
      this.chain.paxText = body;
    } else if (extension.type === "A") solarisAcl(body, extension.size);
    if (extension.type !== "g") this.chain.extensions.push({ type: extension.type, body });
  }

  /** header_common and its callers (header_ustar, header_gnutar, header_old_tar), then the pax records. */
  private entryHeader(header: Buffer, type: string): void {
    const gnuMagic = header.subarray(257, 265).equals(GNU_MAGIC);
    if (gnuMagic) this.format = "gnu";
    else if (header.subarray(257, 262).equals(USTAR)) this.format = this.format === "pax" ? "pax" : "ustar";
    else this.format = "tar";
    let size = number(header.subarray(124, 136));
    if (size < 0n) throw new TarFormatError("a tar entry has a negative size (libarchive: tar entry has negative size)");
    if (size === INT64_MAX) throw new TarFormatError("a tar entry's size overflows (libarchive: tar entry size overflow)");
    if ("23456".includes(type)) size = 0n;
    else if (type === "1" && size > 0n && !this.hardLinkHasBody(header)) size = 0n;
    let sparse = gnuMagic && header[386] !== 0 ? this.sparseEntries(header.subarray(386, 482), 4) : false;
    if (sparse && header[482] !== 0) this.sparseBlocks = true;
    else sparse = false;
    const chain = this.chain;
    let sparsePending: { major?: bigint; minor?: bigint } | undefined;
    // The pathname, for the trailing-slash rule below: the header's, then each extension header's
    // from the innermost out (each one's handler runs after the headers it precedes).
    let name = gnuMagic || this.format === "tar" ? cString(header.subarray(0, 100)) : ustarName(header);
    for (const extension of [...chain.extensions].reverse()) {
      if (extension.type === "L") name = cString(extension.body);
      if ((extension.type !== "x" && extension.type !== "X") || !chain.paxText) continue;
      let path: Buffer | undefined;
      let override: Buffer | undefined;
      parsePax(chain.paxText, (key, value) => {
        if (key === "path") path = value;
        else if (key === "GNU.sparse.name") override = value;
        else if (key === "size") size = atolBase(value, 10);
        else if (key === "GNU.sparse.map") sparseMap(value);
        else if (key === "SUN.holesdata") holesData(value);
        else if (key === "GNU.sparse.major") sparsePending = { ...sparsePending, major: atolBase(value, 10) };
        else if (key === "GNU.sparse.minor") sparsePending = { ...sparsePending, minor: atolBase(value, 10) };
      });
      const chosen = override !== undefined && override.length > 0 ? override : path;
      if (chosen !== undefined && chosen.length > 0) name = chosen;
    }
    // archive_read_format_tar_read_header: a regular file whose name ends in '/' is a directory, without a body.
    if (regular(type, header) && name[name.length - 1] === 0x2f) size = 0n;
    // gnu_add_sparse_entry for the whole body: a negative size (a pax record's) is malformed sparse map data.
    if (size < 0n) throw new TarFormatError("a tar entry has a negative pax size (libarchive: malformed sparse map data)");
    if (sparsePending) {
      // GNU sparse 1.0 keeps its map at the start of the body; any other version is "Unrecognized GNU sparse file format".
      throw new TarFormatError(sparsePending.major === 1n && sparsePending.minor === 0n ? "GNU sparse 1.0 files are not read by pkgtrust" : "an unrecognized GNU sparse file format");
    }
    this.chain = newChain();
    this.entries++;
    this.remaining = Number(size);
    this.padding = Number((BigInt(BLOCK) - (size % BigInt(BLOCK))) % BigInt(BLOCK));
  }

  /**
   * header_common on a hard link with a size: its body counts in a pax archive, not in a GNU
   * or old one; for ustar, libarchive's bid on the header just read (not, as its comment says,
   * the next one) decides: above 50 (the ustar magic and version, a plausible mode) means no body.
   */
  private hardLinkHasBody(header: Buffer): boolean {
    if (this.format === "pax") return true;
    if (this.format !== "ustar") return false;
    return bid(header) <= 50;
  }

  /** gnu_sparse_old_parse: up to `count` (offset, numbytes) pairs while an offset's first byte is not NUL; true if any. */
  private sparseEntries(map: Uint8Array, count: number): boolean {
    let any = false;
    for (let i = 0; i < count && map[i * 24] !== 0; i++) {
      sparseEntry(number(map.subarray(i * 24, i * 24 + 12)), number(map.subarray(i * 24 + 12, i * 24 + 24)));
      any = true;
    }
    return any;
  }

  /** gnu_sparse_old_read: a 512-byte block of 21 more pairs and its own isextended byte (at 504). */
  private sparseBlock(block: Buffer): void {
    this.sparseEntries(block.subarray(0, 504), 21);
    this.sparseBlocks = block[504] !== 0;
  }
}

function newChain() {
  return { depth: 0, onlyGlobal: true, paxText: undefined as Buffer | undefined, extensions: [] as { type: string; body: Buffer }[] };
}

/** header_ustar: prefix, a '/' unless it ends in one, then the name. */
function ustarName(header: Buffer): Buffer {
  const prefix = cString(header.subarray(345, 500));
  const name = cString(header.subarray(0, 100));
  if (prefix.length === 0) return name;
  return Buffer.concat([prefix, prefix[prefix.length - 1] === 0x2f ? Buffer.alloc(0) : Buffer.from("/"), name]);
}

/** header_common's file type AE_IFREG: every type but links, devices, directories and FIFOs (a hard link with a size is one too). */
function regular(type: string, header: Buffer): boolean {
  if (type === "1") return number(header.subarray(124, 136)) > 0n;
  return !"23456D".includes(type);
}

const GNU_MAGIC = Buffer.from("ustar  \0", "latin1");
const USTAR = Buffer.from("ustar", "latin1");
const USTAR_VERSION = Buffer.from("ustar\x0000", "latin1");

/** gnu_add_sparse_entry: "Malformed sparse map data" for a negative offset or size, or their sum beyond int64. */
function sparseEntry(offset: bigint, size: bigint): void {
  if (offset < 0n || size < 0n || offset > INT64_MAX - size) throw new TarFormatError("a GNU sparse map is malformed (libarchive: malformed sparse map data)");
}

/** gnu_sparse_01_parse: decimal numbers separated by commas, in (offset, size) pairs. */
function sparseMap(value: Buffer): void {
  if (!/^[0-9,]*$/.test(value.toString("latin1"))) throw damaged("a GNU.sparse.map pax attribute is malformed");
}

/** solaris_sparse_parse: a blank, then decimal numbers separated by blanks. */
function holesData(value: Buffer): void {
  if (!/^ [0-9 ]*$/.test(value.toString("latin1"))) throw damaged("a SUN.holesdata pax attribute is malformed");
}

/** header_Solaris_ACL: a leading octal type that must be a POSIX.1e ACL (01000000 plus its entry count). */
function solarisAcl(body: Buffer, size: number): void {
  let type = 0;
  let p = 0;
  while (p < size && body[p] !== 0 && body[p] !== undefined) {
    const c = body[p] as number;
    if (c < 0x30 || c > 0x37) throw damaged("a Solaris ACL is malformed (invalid digit)");
    type = type * 8 + (c - 0x30);
    if (type > 0o77777777) throw damaged("a Solaris ACL is malformed (count too large)");
    p++;
  }
  if ((type & ~0o777777) !== 0o1000000) throw damaged("a Solaris ACL is not a POSIX.1e ACL");
  if (p + 1 >= size) throw damaged("a Solaris ACL is malformed (body overflow)");
}
