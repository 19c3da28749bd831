import { ByteReader } from "./byte-reader.js";
import { PackageError } from "./errors.js";

/**
 * Streaming reader of ar archives as libarchive reads them for pkg_install: the BSD
 * variant (`#1/NN` long names stored before the data, as libarchive's ar_bsd writer makes
 * them) and the GNU/SVR4 variant (`name/`, a `//` name table and `/NN` references).
 */

export const AR_MAGIC = "!<arch>\n";
const HEADER_SIZE = 60;
const FMAG = "`\n";
/** Caps the GNU name table, which is held in memory (libarchive allows 1 GiB; pkgtrust refuses more than this). */
const MAX_NAME_TABLE = 64 * 1024;
/** libarchive refuses a BSD long name above 1 MiB ("Bad input file size"). */
const MAX_BSD_NAME = 1024 * 1024;
/** The GNU name table's member, which libarchive hands on as an entry of size 0 (pkg_install skips it). */
export const AR_NAME_TABLE = "//";

export interface ArMember {
  readonly name: string;
  /** Size of the member's data (without a BSD long name). */
  readonly size: number;
}

const ascii = new TextDecoder("latin1");

function formatError(message: string, offset: number): PackageError {
  return new PackageError("PKG_AR_FORMAT", `${message} in the ar header at offset ${offset}`, { detail: { offset } });
}

/**
 * libarchive's ar_atol10: blanks (space, tab) skipped, then decimal digits up to the first
 * other byte; no digit at all is 0. So " 12", "12x" and "12 7" are 12, "-3" and "" are 0.
 */
function atol10(text: string): number {
  const digits = /^[ \t]*([0-9]*)/.exec(text)?.[1] ?? "";
  return digits === "" ? 0 : Number(digits);
}

/** A C string: the text up to its first NUL (libarchive copies names with strncpy). */
function cString(text: string): string {
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

/**
 * The name field as libarchive's _ar_read_header trims it: up to its first NUL; when the
 * field has no NUL, trailing spaces go, then one trailing '/' unless the name starts with
 * '/' or is that '/' alone. undefined for a field of spaces only ("Found entry with empty
 * filename").
 */
function fieldName(raw: string): string | undefined {
  if (raw.includes("\0")) return cString(raw); // strncpy padded the copy with NULs: its last byte is no space or '/'
  const name = raw.replace(/ +$/, "");
  if (name === "") return undefined;
  return name.length > 1 && !name.startsWith("/") && name.endsWith("/") ? name.slice(0, -1) : name;
}

/**
 * libarchive's ar_parse_gnu_filename_table: every '/' must be followed by a newline (both
 * become NULs, ending a name), the last byte must be a newline or '`' unless a "/\n" took
 * it, and it becomes a NUL. undefined: "Invalid string table".
 */
function parseNameTable(bytes: string): string | undefined {
  const table = bytes.split("");
  let p = 0;
  for (; p < table.length - 1; p++) {
    if (table[p] === "/") {
      table[p++] = "\0";
      if (table[p] !== "\n") return undefined;
      table[p] = "\0";
    }
  }
  if (p !== table.length && table[p] !== "\n" && table[p] !== "`") return undefined;
  table[table.length - 1] = "\0";
  return table.join("");
}

export class ArReader {
  private current: { remaining: number; padding: number } | undefined;
  private nameTable: string | undefined;

  private constructor(private readonly input: ByteReader) {}

  /** Checks the global header; PKG_NOT_AR if it is missing. */
  static async open(input: ByteReader): Promise<ArReader> {
    const magic = await input.peek(AR_MAGIC.length);
    if (ascii.decode(magic) !== AR_MAGIC) throw new PackageError("PKG_NOT_AR", "the file is not an ar archive");
    await input.read(AR_MAGIC.length, "the ar header");
    return new ArReader(input);
  }

  /**
   * The next member's header as libarchive's ar reader returns it, or undefined at the end
   * of the archive (fewer than 60 bytes left: libarchive's ARCHIVE_EOF). A GNU name table is
   * read and returned as a member named "//" of size 0. Skips what is left of the previous member.
   */
  async next(): Promise<ArMember | undefined> {
    await this.skipRest();
    const offset = this.input.offset;
    if ((await this.input.peek(HEADER_SIZE)).length < HEADER_SIZE) return undefined;
    const header = ascii.decode(await this.input.read(HEADER_SIZE, "an ar member header"));
    if (header.slice(58, 60) !== FMAG) throw new PackageError("PKG_AR_FORMAT", `bad ar member header at offset ${offset}`, { detail: { offset } });
    const rawName = header.slice(0, 16);
    const name = fieldName(rawName);
    if (name === undefined) throw formatError("ar member without a name", offset);
    // Only the size counts; date, uid, gid and mode are read by ar_atol10/ar_atol8, which take any bytes.
    const size = atol10(header.slice(48, 58));
    this.current = { remaining: size, padding: size % 2 };
    if (name === AR_NAME_TABLE) {
      if (size === 0) throw formatError("empty ar name table", offset);
      if (this.nameTable !== undefined) throw formatError("a second ar name table", offset);
      if (size > MAX_NAME_TABLE) throw new PackageError("PKG_MEMBER_TOO_LARGE", `the ar name table has ${size} bytes`, { detail: { offset } });
      this.nameTable = parseNameTable(ascii.decode(await this.readBody(MAX_NAME_TABLE)));
      if (this.nameTable === undefined) throw formatError("invalid ar name table", offset);
      return { name, size: 0 };
    }
    if (/^\/[0-9]/.test(name)) {
      // GNU: "/N" names the string at offset N of the table (ar_atol10 of the field after the '/').
      const index = atol10(rawName.slice(1));
      if (this.nameTable === undefined || index >= this.nameTable.length) throw formatError("ar member name refers to a missing name table entry", offset);
      return { name: cString(this.nameTable.slice(index)), size };
    }
    if (name.startsWith("#1/")) {
      // BSD: the name's length follows "#1/" and the name is the start of the data.
      const length = atol10(rawName.slice(3));
      if (length > MAX_BSD_NAME || length > size) throw formatError("long name longer than its member", offset);
      const stored = cString(ascii.decode(await this.input.read(length, "an ar member name")));
      this.current = { remaining: size - length, padding: size % 2 };
      return { name: stored, size: size - length };
    }
    return { name, size };
  }

  /**
   * The next member as pkg_install's read_file_from_archive takes it for +PKG_HASH and
   * +PKG_SIGNATURE: GNU name tables are skipped. (The inner package is the very next
   * member, read with next(): a name table there is taken for it.)
   */
  async nextFile(): Promise<ArMember | undefined> {
    for (;;) {
      const member = await this.next();
      if (member?.name !== AR_NAME_TABLE) return member;
    }
  }

  /** The whole data of the current member; PKG_MEMBER_TOO_LARGE above `max` bytes. */
  async readBody(max: number, what = "an ar member"): Promise<Uint8Array> {
    const current = this.requireCurrent();
    if (current.remaining > max) {
      throw new PackageError("PKG_MEMBER_TOO_LARGE", `${what} has ${current.remaining} bytes, more than the ${max} allowed`, { detail: { size: current.remaining, max } });
    }
    const body = await this.input.read(current.remaining, what);
    current.remaining = 0;
    return body;
  }

  /** Streams the data of the current member as it arrives. */
  async *body(what = "an ar member"): AsyncGenerator<Uint8Array> {
    const current = this.requireCurrent();
    for await (const chunk of this.input.stream(current.remaining, what)) {
      current.remaining -= chunk.length;
      yield chunk;
    }
  }

  private requireCurrent(): { remaining: number; padding: number } {
    if (!this.current) throw new Error("ArReader: no current member");
    return this.current;
  }

  private async skipRest(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    for await (const _ of this.input.stream(current.remaining, "an ar member")) {
      // discarded
    }
    // Members are padded to an even offset. libarchive fails on a pad byte missing at the very
    // end; here the archive just ends, which refuses the package as surely (a member is missing).
    if (current.padding && !(await this.input.atEnd())) await this.input.read(1, "ar padding");
  }
}
