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

/**
 * An ARCHIVE_WARN of libarchive's tar reader. It ends pkg_install's walk like an error, unless
 * a handler further up the entry's chain of headers drops it: header_longlink (K) returns
 * ARCHIVE_OK whatever the headers after it returned, header_Solaris_ACL (A) its ACL's own status.
 */
class TarWarning extends TarFormatError {}

/** gnu_add_sparse_entry's "Malformed sparse map data": fatal, but a warning from a GNU.sparse.map record. */
class MalformedSparse extends TarFormatError {}

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
  // The checksum field counts as eight blanks; the signed sum is the unsigned one less 256 per byte above 127.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const byte = header[i] as number;
    unsigned += byte;
    high += byte >> 7;
  }
  return stored === BigInt(unsigned) || stored === BigInt(unsigned - 256 * high);
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

function isNullBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
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
 * headers share its one buffer); a malformed record ends the parse with a warning (the
 * records before it stay applied). Calls `attribute` per record.
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
      if (c < 0x30 || c > 0x39) throw new TarWarning("a pax extended header is malformed (libarchive: ignoring malformed pax extended attributes)");
      lineLength = lineLength * 10 + (c - 0x30);
      if (lineLength > 999999) throw new TarWarning("a pax extended attribute is over 1 MB (libarchive: rejecting pax extended attribute)");
      p++;
      left--;
    }
    if (lineLength > length || lineLength < 1 || text[attr + lineLength - 1] !== 0x0a) throw new TarWarning("a pax extended attribute is malformed (libarchive: ignoring malformed pax extended attribute)");
    text[attr + lineLength - 1] = 0;
    // pax_header returns -1 here, which the tar_read_header above it turns into ARCHIVE_FATAL.
    if (text[p] === 0x3d) throw damaged("a pax extended attribute has no key");
    let equals = p;
    while (text[equals] !== 0 && text[equals] !== 0x3d) equals++;
    if (text[equals] === 0) throw new TarWarning("a pax extended attribute has no '=' (libarchive: invalid pax extended attributes)");
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
/**
 * Extension header bodies pkgtrust reads in one package (pax, GNU long names, ACLs: a few
 * hundred bytes an entry): 1 MiB of tiny pax records takes about 60 ms to parse, so 4 GiB of
 * them would hold a walk for minutes.
 */
const MAX_EXTENSIONS = 64 * 1024 * 1024;
/**
 * GNU sparse 1.0 map bytes pkgtrust reads in one package (800,000 holes take about 16 MB):
 * map lines are read one by one, and a bomb of them could otherwise hold a walk for minutes.
 */
const MAX_SPARSE_MAPS = 16 * 1024 * 1024;
/** Sparse pieces pkgtrust takes in one package, of every kind (GNU old, 0.0, 0.1 and 1.0 maps, Solaris holes). */
const MAX_SPARSE_PIECES = 4 * 1024 * 1024;
/** tar_read_header's bound on the headers of one entry ("Too many special headers"). */
const MAX_DEPTH = 32;

type Format = "pax" | "gnu" | "ustar" | "tar" | undefined;

/** The first entry as libarchive hands it to pkg_install: archive_entry_pathname and the size of its data. */
export interface FirstEntry {
  /** The pathname's bytes, as latin1. */
  readonly name: string;
  readonly size: number;
  /** With a sparse map (GNU or Solaris): its data is not its body as stored. */
  readonly sparse: boolean;
}

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
  /**
   * The entry's sparse list (gnu_add_sparse_entry) as archive_read_format_tar_skip sums it:
   * it consumes the data pieces, not the size. Only the sums are kept, so that a map of
   * millions of pieces costs no memory.
   */
  private sparse = noSparse();
  /** header_common: GNU.sparse records are allowed once an entry of type 0 or S was read (never reset, as in libarchive). */
  private sparseAllowed = false;
  /** GNU sparse 0.0's GNU.sparse.offset and .numbytes waiting for each other: struct tar's fields, 0 at first and kept across entries. */
  private sparseOffset = 0n;
  private sparseNumbytes = 0n;
  /** The GNU sparse version, struct tar's sparse_gnu_major and minor: set by pax records, kept across entries (0 at first). */
  private sparseVersion = { major: 0, minor: 0 };
  /** Bytes of extension header bodies read so far in the package. */
  private extensionBytes = 0;
  /** Bytes of GNU sparse 1.0 maps read so far in the package, and sparse pieces of every kind. */
  private mapBytes = 0;
  private sparsePieces = 0;
  /** A GNU sparse 1.0 entry's map, read from the start of its body before the body proper. */
  private map10: { readonly reader: Sparse10Map; readonly size: bigint; readonly directory: boolean } | undefined;
  /** header_recursion_depth left over: "Too many special headers" returns without its decrement, so each one lowers the limit for the rest of the archive. */
  private depthCarry = 0;
  /** The entry whose header chain is read, until its body starts (after any old GNU sparse blocks). */
  private pending: { readonly name: Buffer; readonly size: bigint; readonly directory: boolean; readonly map10: boolean } | undefined;
  /** The first entry as libarchive hands it to pkg_install, and its body while it is kept. */
  private first: FirstEntry | undefined;
  private firstParts: Buffer[] | undefined;
  private firstKept: Buffer | undefined;
  private readonly keepFirst: number;
  private readonly stopAfterFirst: boolean;

  /**
   * `keepFirst`: the first entry's body is kept (firstBody) when it is not sparse and has at
   * most this many bytes. `stopAfterFirst`: nothing after the first entry is walked.
   */
  constructor(options: { keepFirst?: number; stopAfterFirst?: boolean } = {}) {
    this.keepFirst = options.keepFirst ?? 0;
    this.stopAfterFirst = options.stopAfterFirst ?? false;
  }

  /** The first entry, once its header chain is read. */
  get firstEntry(): FirstEntry | undefined {
    return this.first;
  }

  /** The first entry's body, once it went past whole, if it was kept. */
  get firstBody(): Buffer | undefined {
    return this.firstKept;
  }

  /** True once the end-of-archive block was read: the rest of the data is never looked at. */
  get ended(): boolean {
    return this.finished;
  }

  /** True once the first entry's header and body went past. */
  get pastFirstEntry(): boolean {
    return this.finished || this.entries > 1 || (this.entries === 1 && this.remaining === 0 && this.pending === undefined && this.map10 === undefined);
  }

  /** Whether the data may end here: anywhere but inside a header's chain or an extension header's body. */
  get atBoundary(): boolean {
    return this.finished || (this.headerFill === 0 && this.extension === undefined && this.chain.depth === 0 && !this.sparseBlocks && this.map10 === undefined);
  }

  /** Walks the next bytes; throws TarFormatError where libarchive's reader fails. */
  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.finished && !(this.stopAfterFirst && this.pastFirstEntry)) {
      const map10 = this.map10;
      if (map10) {
        at += map10.reader.take(chunk.subarray(at));
        if (!map10.reader.done) continue;
        this.map10 = undefined;
        this.mapBytes += map10.reader.linesRead;
        // tar_read_header: the map's bytes and their padding are no longer the entry's.
        this.body(map10.size - map10.reader.length, map10.directory);
        continue;
      }
      if (this.remaining > 0 && !this.sparseBlocks) {
        const take = Math.min(this.remaining, chunk.length - at);
        (this.extension?.parts ?? this.firstParts)?.push(Buffer.from(chunk.subarray(at, at + take)));
        this.remaining -= take;
        at += take;
        if (this.remaining === 0 && this.firstParts && !this.extension) this.firstBodyDone();
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
    if (this.headerFill === 0 && this.extension === undefined && !this.sparseBlocks && this.map10 === undefined && this.chain.onlyGlobal) return;
    throw new TarFormatError("the tar archive ends inside a header or its extension headers (libarchive: truncated or damaged tar archive)");
  }

  private readHeader(header: Buffer): void {
    // tar_read_header: h[0] != 0 || !archive_block_is_null(h) (the first byte alone tells nearly every header).
    if (header[0] === 0 && isNullBlock(header)) {
      // An end-of-archive block after an extension header (other than g alone) is "Damaged tar archive".
      if (this.chain.depth > 0 && !this.chain.onlyGlobal) throw damaged("an extension header is followed by the end of the archive");
      this.finished = true;
      return;
    }
    // archive_read_support_format_all: libarchive reads the data as tar only if the tar bidder takes its first block.
    if (!this.started && bid(header) === 0) throw new TarFormatError("the first block is not a tar header libarchive's bidder takes (libarchive: unrecognized archive format)");
    this.started = true;
    if (!checksumMatches(header)) throw damaged(`the tar header at entry ${this.entries + 1} has a bad checksum`);
    // archive_read_format_tar_read_header clears the sparse list before each entry's headers.
    if (this.chain.depth === 0) this.sparse = noSparse();
    if (++this.chain.depth + this.depthCarry > MAX_DEPTH) return this.tooManyHeaders();
    const type = String.fromCharCode(header[156] as number);
    // header_volume: no body, the next header is read at once (and, as after a g header, the end may come there).
    if (type === "V") return;
    if (EXTENSION_TYPES.has(type)) {
      if (type !== "g") this.chain.onlyGlobal = false;
      if (type === "x" || type === "X" || type === "g" || type === "A") this.format = "pax";
      const size = number(header.subarray(124, 136));
      // read_body_to_string: a negative size or one above 1 MiB is fatal.
      if (size < 0n || size > BigInt(MAX_EXTENSION)) throw new TarFormatError(`a tar extension header of ${size} bytes is refused (libarchive: special header too large)`);
      // pkgtrust's bound on the time hostile extension headers can take: their records are parsed in JavaScript.
      this.extensionBytes += Number(size);
      if (this.extensionBytes > MAX_EXTENSIONS) throw new TarFormatError(`more than ${MAX_EXTENSIONS} bytes of extension headers in one package are refused by pkgtrust`);
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
    // header_pax_extensions reads every x body into one buffer, header_Solaris_ACL every A body
    // into another: the last one read is parsed once per header of its kind.
    if (extension.type === "x" || extension.type === "X") this.chain.paxText = body;
    else if (extension.type === "A") this.chain.aclText = body;
    if (extension.type !== "g") this.chain.extensions.push({ type: extension.type, body, size: extension.size });
  }

  /** header_common and its callers (header_ustar, header_gnutar, header_old_tar), then the pax records. */
  private entryHeader(header: Buffer, type: string): void {
    const gnuMagic = GNU_MAGIC.compare(header, 257, 265) === 0;
    if (gnuMagic) this.format = "gnu";
    else if (USTAR.compare(header, 257, 262) === 0) this.format = this.format === "pax" ? "pax" : "ustar";
    else this.format = "tar";
    let size = number(header.subarray(124, 136));
    if (size < 0n) throw new TarFormatError("a tar entry has a negative size (libarchive: tar entry has negative size)");
    if (size === INT64_MAX) throw new TarFormatError("a tar entry's size overflows (libarchive: tar entry size overflow)");
    if ("23456".includes(type)) size = 0n;
    else if (type === "1" && size > 0n && !this.hardLinkHasBody(header)) size = 0n;
    if (type === "0" || type === "S") this.sparseAllowed = true;
    // header_gnutar: an old GNU sparse map in the header, continued in extension blocks while isextended is set.
    if (gnuMagic && header[386] !== 0 && this.sparseEntries(header.subarray(386, 482), 4) && header[482] !== 0) this.sparseBlocks = true;
    this.endChain({ name: gnuMagic || this.format === "tar" ? cString(header.subarray(0, 100)) : ustarName(header), size, regular: regular(type, header) });
  }

  /** tar_read_header's "Too many special headers", a warning: this header is consumed unread, and the handlers of the headers before it unwind from there. */
  private tooManyHeaders(): void {
    this.depthCarry++;
    // No header_common ran: the size is 0 (the entry before was skipped), the pathname unset, the type not a regular file.
    this.endChain({ name: Buffer.alloc(0), size: 0n, regular: false }, new TarWarning("more than 32 headers for one entry (libarchive: too many special headers)"));
  }

  /**
   * The handlers of the entry's extension headers, innermost first, as tar_read_header's
   * recursion unwinds (each runs after the headers it precedes), then the entry: a warning
   * left at the top ends the walk; otherwise the entry's body follows.
   */
  private endChain(entry: { readonly name: Buffer; readonly size: bigint; readonly regular: boolean }, warning?: TarWarning): void {
    const chain = this.chain;
    let { name, size } = entry;
    // GNU.sparse.major or .minor seen: tar_read_header then reads a 1.0 map, or warns.
    let sparsePending = false;
    for (let i = chain.extensions.length - 1; i >= 0; i--) {
      const extension = chain.extensions[i] as (typeof chain.extensions)[number];
      if (extension.type === "L") name = cString(extension.body);
      else if (extension.type === "K") warning = undefined;
      else if (extension.type === "A") warning = solarisAclWarning(chain.aclText ?? extension.body, extension.size);
      else if (chain.paxText) {
        // pax_header: a record it cannot parse ends it with a warning, before the pathname is set.
        let path: Buffer | undefined;
        let override: Buffer | undefined;
        let attributeWarning: TarWarning | undefined;
        try {
          parsePax(chain.paxText, (key, value) => {
            try {
              if (key.startsWith("GNU.sparse") && !this.sparseAllowed) throw new TarFormatError("GNU sparse records on an entry before any regular file (libarchive: non-regular file cannot be sparse)");
              if (key === "path") path = value;
              else if (key === "GNU.sparse.name") override = value;
              else if (key === "size") size = paxSize(value);
              else if (key === "GNU.sparse.numblocks") {
                this.sparseOffset = this.sparseNumbytes = -1n;
                this.sparseVersion = { major: 0, minor: 0 };
              }
              else if (key === "GNU.sparse.offset" || key === "GNU.sparse.numbytes") this.sparse00(key, atolBase(value, 10));
              else if (key === "GNU.sparse.map") {
                this.sparseVersion = { major: 0, minor: 1 };
                this.sparseMap(value);
              }
              else if (key === "SUN.holesdata") this.holesData(value);
              else if (key === "GNU.sparse.major" || key === "GNU.sparse.minor") {
                // (int)tar_atol10: the low 32 bits.
                const version = Number(BigInt.asIntN(32, atolBase(value, 10)));
                this.sparseVersion = key === "GNU.sparse.major" ? { ...this.sparseVersion, major: version } : { ...this.sparseVersion, minor: version };
                sparsePending = true;
              }
            } catch (error) {
              // pax_attribute's warnings are combined and the records after them still read.
              if (!(error instanceof TarWarning)) throw error;
              attributeWarning ??= error;
            }
          });
        } catch (error) {
          if (!(error instanceof TarWarning)) throw error;
          warning ??= error;
          continue;
        }
        warning ??= attributeWarning;
        const chosen = override !== undefined && override.length > 0 ? override : path;
        if (chosen !== undefined && chosen.length > 0) name = chosen;
      }
    }
    // Any GNU sparse version but 1.0 is "Unrecognized GNU sparse file format", a warning every level of the recursion raises again.
    const map10 = sparsePending && this.sparseVersion.major === 1 && this.sparseVersion.minor === 0;
    if (sparsePending && !map10) throw new TarFormatError("an unrecognized GNU sparse file format (libarchive: a warning no header drops)");
    if (warning) throw warning;
    this.chain = newChain();
    this.entries++;
    // archive_read_format_tar_read_header: a regular file whose name ends in '/' is a directory, without a body.
    this.pending = { name, size, directory: entry.regular && name[name.length - 1] === 0x2f, map10 };
    if (!this.sparseBlocks) this.startBody();
  }

  /**
   * The entry's headers are all read: what archive_read_format_tar_skip consumes is the
   * sparse list's data pieces (the whole body when there is no list), at most the size, then
   * the padding to the size's block boundary.
   */
  private startBody(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const { size, directory } = pending;
    if (this.entries === 1) this.first = { name: pending.name.toString("latin1"), size: directory ? 0 : Number(size), sparse: pending.map10 || this.sparse.pieces > 0 };
    if (!pending.map10) return this.body(size, directory);
    // gnu_sparse_10_read, at the start of the body: its map replaces every piece the headers gave.
    this.sparse = noSparse();
    this.map10 = { reader: new Sparse10Map(size, MAX_SPARSE_MAPS - this.mapBytes, (offset, length) => this.addSparse(offset, length)), size, directory };
  }

  /**
   * The body proper, `size` bytes as archive_read_format_tar_read_header left them (a regular
   * file named with a trailing '/' is a directory: no body, no padding).
   */
  private body(size: bigint, directory: boolean): void {
    const { pieces, data, overflow } = this.sparse;
    // A sum of pieces past int64 fails the skip before it consumes anything: the next header is read where the body starts.
    if (directory || overflow) {
      this.remaining = this.padding = 0;
    } else {
      this.remaining = Number(pieces === 0 || data > size ? size : data);
      this.padding = Number((BigInt(BLOCK) - (size % BigInt(BLOCK))) % BigInt(BLOCK));
    }
    if (this.entries !== 1 || this.first?.sparse || (this.first?.size ?? 0) > this.keepFirst) return;
    this.firstParts = [];
    if (this.remaining === 0) this.firstBodyDone();
  }

  private firstBodyDone(): void {
    this.firstKept = Buffer.concat(this.firstParts ?? []);
    this.firstParts = undefined;
  }

  /** gnu_add_sparse_entry: "Malformed sparse map data" for a negative offset or size, or their sum beyond int64. */
  private addSparse(offset: bigint, size: bigint, hole = false): void {
    // pkgtrust's bound on the time a hostile map can take: a million holes make a million pieces.
    if (++this.sparsePieces > MAX_SPARSE_PIECES) throw new TarFormatError(`more than ${MAX_SPARSE_PIECES} sparse pieces in one package are refused by pkgtrust`);
    // The piece is in the list before it is checked (a warning may let the entry go on with it, empty).
    const sparse = this.sparse;
    sparse.pieces++;
    if (offset < 0n || size < 0n || offset > INT64_MAX - size) throw new MalformedSparse("a GNU sparse map is malformed (libarchive: malformed sparse map data)");
    if (hole || sparse.overflow) return;
    if (size >= INT64_MAX - sparse.data) sparse.overflow = true;
    else sparse.data += size;
  }

  /** GNU sparse 0.0: GNU.sparse.offset and GNU.sparse.numbytes make a piece once both are set (-1 is unset). */
  private sparse00(key: "GNU.sparse.offset" | "GNU.sparse.numbytes", value: bigint): void {
    if (key === "GNU.sparse.offset") this.sparseOffset = value;
    else this.sparseNumbytes = value;
    const other = key === "GNU.sparse.offset" ? this.sparseNumbytes : this.sparseOffset;
    if (other === -1n) return;
    this.addSparse(this.sparseOffset, this.sparseNumbytes);
    this.sparseOffset = this.sparseNumbytes = -1n;
  }

  /**
   * gnu_sparse_01_parse: decimal numbers separated by commas, (offset, size) pairs added as
   * they are read (those before a bad number stay); an odd one out is ignored.
   */
  private sparseMap(value: Buffer): void {
    let offset: bigint | undefined;
    for (const digits of value.toString("latin1").split(",")) {
      if (!/^[0-9]*$/.test(digits)) throw new TarWarning("a GNU.sparse.map pax attribute is malformed (libarchive: a warning)");
      const number = atolBase(Buffer.from(digits, "latin1"), 10);
      if (offset === undefined) {
        offset = number;
        continue;
      }
      try {
        this.addSparse(offset, number);
      } catch (error) {
        // pax_attribute turns gnu_sparse_01_parse's failure into a warning.
        throw error instanceof MalformedSparse ? new TarWarning(error.message) : error;
      }
      offset = undefined;
    }
  }

  /** solaris_sparse_parse: a blank, then decimal numbers separated by blanks, the ends of a hole, data, a hole ... in turn. */
  private holesData(value: Buffer): void {
    const text = value.toString("latin1");
    const malformed = () => new TarWarning("a SUN.holesdata pax attribute is malformed (libarchive: parse error: SUN.holesdata)");
    if (text[0] !== " ") throw malformed();
    let end = 0n;
    let hole = true;
    // The pieces before a bad number stay, as solaris_sparse_parse adds them as it reads.
    for (const digits of text.slice(1).split(" ")) {
      if (!/^[0-9]*$/.test(digits)) throw malformed();
      const start = end;
      end = atolBase(Buffer.from(digits, "latin1"), 10);
      if (start < end) this.addSparse(start, end - start, hole);
      hole = !hole;
    }
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
      this.addSparse(number(map.subarray(i * 24, i * 24 + 12)), number(map.subarray(i * 24 + 12, i * 24 + 24)));
      any = true;
    }
    return any;
  }

  /** gnu_sparse_old_read: a 512-byte block of 21 more pairs and its own isextended byte (at 504). */
  private sparseBlock(block: Buffer): void {
    this.sparseEntries(block.subarray(0, 504), 21);
    this.sparseBlocks = block[504] !== 0;
    if (!this.sparseBlocks) this.startBody();
  }
}

function noSparse() {
  return { pieces: 0, data: 0n, overflow: false };
}

function newChain() {
  return { depth: 0, onlyGlobal: true, paxText: undefined as Buffer | undefined, aclText: undefined as Buffer | undefined, extensions: [] as { type: string; body: Buffer; size: number }[] };
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

/**
 * gnu_sparse_10_read: the map at the start of a GNU sparse 1.0 body, decimal numbers one per
 * line (lines starting with '#' skipped): a count (an int), then that many offset and size
 * pairs; each line at most 100 bytes and within the body; then padding to a block. Every
 * failure is fatal; the data ending inside the map is one.
 */
class Sparse10Map {
  /** The line being read (at most 100 bytes). */
  private readonly line = Buffer.alloc(100);
  private lineLength = 0;
  private count: number | undefined;
  private offset: bigint | undefined;
  /** Bytes of the map's lines so far. */
  private read = 0n;
  /** Padding left to skip once the last pair is read. */
  private padding: number | undefined;

  /** `budget`: the map bytes pkgtrust still reads in this package (MAX_SPARSE_MAPS). */
  constructor(
    private readonly size: bigint,
    private readonly budget: number,
    private readonly add: (offset: bigint, size: bigint) => void,
  ) {}

  get done(): boolean {
    return this.padding === 0;
  }

  /** The map's length with its padding: what the body loses. */
  get length(): bigint {
    return this.read + BigInt((BLOCK - Number(this.read % BigInt(BLOCK))) % BLOCK);
  }

  /** Bytes of map lines read: what the package's budget loses. */
  get linesRead(): number {
    return Number(this.read);
  }

  /** Takes what it needs from the start of `bytes`; returns how many it took. */
  take(bytes: Uint8Array): number {
    let at = 0;
    while (at < bytes.length && !this.done) {
      if (this.padding !== undefined) {
        const skip = Math.min(this.padding, bytes.length - at);
        this.padding -= skip;
        at += skip;
        continue;
      }
      // readline's limit: the rest of the body, at most 100 bytes, the newline included.
      const left = this.size - this.read;
      const room = (left < 100n ? Number(left) : 100) - this.lineLength;
      const newline = bytes.subarray(at, at + room).indexOf(0x0a);
      const end = newline < 0 ? Math.min(bytes.length, at + room) : at + newline + 1;
      if (newline < 0 && end - at === room) throw new TarFormatError("a GNU sparse 1.0 map line is too long (libarchive: line too long)");
      this.line.set(bytes.subarray(at, end), this.lineLength);
      this.lineLength += end - at;
      at = end;
      if (newline >= 0) this.lineRead();
    }
    return at;
  }

  private lineRead(): void {
    const length = this.lineLength;
    this.lineLength = 0;
    this.read += BigInt(length);
    // pkgtrust's bound on the time a hostile map can take (libarchive reads on, a line at a time).
    if (this.read > BigInt(this.budget)) throw new TarFormatError(`GNU sparse 1.0 maps of more than ${MAX_SPARSE_MAPS} bytes in one package are refused by pkgtrust`);
    if (this.line[0] === 0x23) return;
    // gnu_sparse_10_atol: digits up to the newline, INT64_MAX on overflow; anything else fails.
    let value = 0n;
    for (let i = 0; i < length - 1; i++) {
      const byte = this.line[i] as number;
      if (byte < 0x30 || byte > 0x39) throw new TarFormatError("a GNU sparse 1.0 map holds a line that is not a number (libarchive: fatal)");
      value = value * 10n + BigInt(byte - 0x30);
      if (value > INT64_MAX) value = INT64_MAX;
    }
    if (this.count === undefined) {
      // entries = (int)gnu_sparse_10_atol(...): the low 32 bits, and a negative count fails.
      this.count = Number(BigInt.asIntN(32, value));
      if (this.count < 0) throw new TarFormatError("a GNU sparse 1.0 map's count is negative (libarchive: fatal)");
    } else if (this.offset === undefined) {
      this.offset = value;
      return;
    } else {
      this.add(this.offset, value);
      this.offset = undefined;
      this.count--;
    }
    if (this.count === 0) this.mapRead();
  }

  private mapRead(): void {
    const padding = Number(this.length - this.read);
    if (BigInt(padding) > this.size - this.read) throw new TarFormatError("a GNU sparse 1.0 map's padding runs past the body (libarchive: fatal)");
    this.padding = padding;
  }
}

/** pax_attribute's size: decimal, refused when negative or overflowing. */
function paxSize(value: Buffer): bigint {
  const size = atolBase(value, 10);
  if (size < 0n) throw new TarFormatError("a pax size attribute is negative (libarchive: tar size attribute is negative)");
  if (size === INT64_MAX) throw new TarFormatError("a pax size attribute overflows (libarchive: tar size attribute overflow)");
  return size;
}

/** header_Solaris_ACL after the headers it precedes: a leading octal type that must be a POSIX.1e ACL (01000000 plus its entry count), else a warning. */
function solarisAclWarning(body: Buffer, size: number): TarWarning | undefined {
  let type = 0;
  let p = 0;
  while (p < size && body[p] !== 0 && body[p] !== undefined) {
    const c = body[p] as number;
    if (c < 0x30 || c > 0x37) return new TarWarning("a Solaris ACL is malformed (libarchive: invalid digit)");
    type = type * 8 + (c - 0x30);
    if (type > 0o77777777) return new TarWarning("a Solaris ACL is malformed (libarchive: count too large)");
    p++;
  }
  if ((type & ~0o777777) !== 0o1000000) return new TarWarning("a Solaris ACL is not a POSIX.1e ACL");
  if (p + 1 >= size) return new TarWarning("a Solaris ACL is malformed (libarchive: body overflow)");
  return undefined;
}
