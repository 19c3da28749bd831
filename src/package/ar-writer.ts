import { AR_MAGIC } from "./ar-reader.js";

/**
 * ar member headers as libarchive's BSD writer (archive_write_set_format_ar_bsd, used by
 * pkg_install's pkg_sign) makes them: 60-byte headers of left-aligned space-padded
 * fields, names over 16 bytes or with a space stored as `#1/NN` before the data, data
 * padded with "\n" to an even length.
 */

export interface ArMemberInfo {
  readonly name: string;
  readonly size: number;
  /** Seconds since the epoch; pkg_sign copies the input file's stat to every member. */
  readonly mtime: number;
  readonly uid: number;
  readonly gid: number;
  /** Full st_mode, file type bits included (libarchive writes it in octal). */
  readonly mode: number;
}

export const AR_GLOBAL_HEADER = Buffer.from(AR_MAGIC, "latin1");

function field(value: string, width: number, what: string): string {
  if (value.length > width) throw new RangeError(`ar ${what} ${value} does not fit in ${width} bytes`);
  return value.padEnd(width, " ");
}

/** The header (plus a BSD long name) that precedes a member's data. */
export function arMemberHeader(member: ArMemberInfo): Buffer {
  const name = Buffer.from(member.name, "utf8");
  if (name.length === 0 || member.name.includes("/")) throw new RangeError(`bad ar member name '${member.name}'`);
  const long = name.length > 16 || member.name.includes(" ");
  const header =
    field(long ? `#1/${name.length}` : name.toString("latin1"), 16, "name") +
    field(String(member.mtime), 12, "mtime") +
    field(String(member.uid), 6, "uid") +
    field(String(member.gid), 6, "gid") +
    field(member.mode.toString(8), 8, "mode") +
    field(String(member.size + (long ? name.length : 0)), 10, "size") +
    "`\n";
  return long ? Buffer.concat([Buffer.from(header, "latin1"), name]) : Buffer.from(header, "latin1");
}

/** The padding after a member's data. */
export function arPadding(member: ArMemberInfo): Buffer {
  const long = Buffer.byteLength(member.name) > 16 || member.name.includes(" ");
  const total = member.size + (long ? Buffer.byteLength(member.name) : 0);
  return total % 2 === 1 ? Buffer.from("\n") : Buffer.alloc(0);
}
