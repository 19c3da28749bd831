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
/** Caps the GNU name table, which is held in memory. */
const MAX_NAME_TABLE = 64 * 1024;

export interface ArMember {
  readonly name: string;
  /** Size of the member's data (without a BSD long name). */
  readonly size: number;
}

const ascii = new TextDecoder("latin1");

function decimalField(text: string, field: string, offset: number): number {
  const trimmed = text.replace(/ +$/, "");
  // ar headers hold left-aligned decimal numbers padded with spaces.
  if (!/^[0-9]{1,15}$/.test(trimmed)) {
    throw new PackageError("PKG_AR_FORMAT", `bad ${field} field '${text.trim()}' in the ar header at offset ${offset}`, { detail: { offset } });
  }
  return Number(trimmed);
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

  /** The next member's header, or undefined at the end of the archive. Skips what is left of the previous member. */
  async next(): Promise<ArMember | undefined> {
    await this.skipRest();
    for (;;) {
      if (await this.input.atEnd()) return undefined;
      const offset = this.input.offset;
      const header = ascii.decode(await this.input.read(HEADER_SIZE, "an ar member header"));
      if (header.slice(58, 60) !== FMAG) throw new PackageError("PKG_AR_FORMAT", `bad ar member header at offset ${offset}`, { detail: { offset } });
      const rawName = header.slice(0, 16);
      let size = decimalField(header.slice(48, 58), "size", offset);
      let name: string;
      if (rawName.startsWith("#1/")) {
        // BSD: the name's length follows "#1/" and the name is the start of the data.
        const length = decimalField(rawName.slice(3), "long name length", offset);
        if (length > size) throw new PackageError("PKG_AR_FORMAT", `long name longer than its member at offset ${offset}`, { detail: { offset } });
        name = ascii.decode(await this.input.read(length, "an ar member name")).replace(/\0+$/, "");
        size -= length;
        this.current = { remaining: size, padding: (size + length) % 2 };
      } else {
        this.current = { remaining: size, padding: size % 2 };
        const trimmed = rawName.replace(/ +$/, "");
        if (trimmed === "//") {
          // GNU name table: read it and go on, as pkg_install's read_file_from_archive does.
          if (size > MAX_NAME_TABLE) throw new PackageError("PKG_MEMBER_TOO_LARGE", `the ar name table has ${size} bytes`, { detail: { offset } });
          this.nameTable = ascii.decode(await this.readBody(MAX_NAME_TABLE));
          await this.skipRest();
          continue;
        }
        name = /^\/[0-9]+$/.test(trimmed) ? this.tableName(Number(trimmed.slice(1)), offset) : trimmed.replace(/(.)\/$/, "$1");
      }
      if (name.length === 0) throw new PackageError("PKG_AR_FORMAT", `ar member without a name at offset ${offset}`, { detail: { offset } });
      return { name, size };
    }
  }

  private tableName(index: number, offset: number): string {
    const table = this.nameTable;
    if (table === undefined || index >= table.length) {
      throw new PackageError("PKG_AR_FORMAT", `ar member name refers to a missing name table entry at offset ${offset}`, { detail: { offset } });
    }
    const end = table.indexOf("/\n", index);
    const name = table.slice(index, end === -1 ? undefined : end);
    if (end === -1 || name.includes("\n")) throw new PackageError("PKG_AR_FORMAT", `bad ar name table entry at offset ${offset}`, { detail: { offset } });
    return name;
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
    // Members are padded to an even offset; a missing pad at the very end is tolerated (as libarchive does).
    if (current.padding && !(await this.input.atEnd())) await this.input.read(1, "ar padding");
  }
}
