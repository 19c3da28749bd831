/**
 * Structured mutations of an inner package's tar (and of the gzip around it) for the tar
 * differential fuzzer (tar-differential.test.ts). A case is a list of operations, each with a
 * label, applied to a small three-entry package (+CONTENTS, +COMMENT, README): so a case that
 * pkgtrust and libarchive judge differently is minimised by dropping operations, and its
 * remaining labels describe it.
 */
import { gzipSync } from "node:zlib";
import { BLOCK, END, entry, headerSum, paxRecord, tarHeader, type HeaderFields } from "../fixtures/tar-builder.js";

/** One 512-byte-aligned piece of the tar: an entry (header fields, body), or raw bytes. */
export type Part = { fields: HeaderFields; body: Buffer; edits: ((header: Buffer) => void)[]; bodyOmitted?: boolean } | { raw: Buffer };

export interface Model {
  parts: Part[];
  end: Buffer;
  /** Edits of the whole tar (cuts, trailing bytes), then of the gzip members. */
  tarEdits: ((tar: Buffer) => Buffer)[];
  gzip: boolean;
  /** The first member's header flags and optional fields (by flag: FEXTRA 4, FNAME 8, FCOMMENT 16, FHCRC 2). */
  gzipHeader: { flags: number; fields: Map<number, Buffer> };
  gzipSplits: number[];
  gzipEdits: ((gz: Buffer) => Buffer)[];
}

export interface Op {
  readonly label: string;
  apply(model: Model): void;
}

/** mulberry32: a small seeded generator, so that every case can be made again from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, list: readonly T[]): T => list[int(r, list.length)] as T;
const bytes = (r: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

export const PKGNAME = "fuzz-1.0";
export const CONTENTS = Buffer.from(`@comment $NetBSD$\n@name ${PKGNAME}\n@cwd /usr/pkg\nshare/doc/fuzz/README\n`);

export function baseModel(r: Rng, gzip: boolean): Model {
  const file = (name: string, body: Buffer): Part => ({ fields: { name }, body, edits: [] });
  return {
    parts: [file("+CONTENTS", CONTENTS), file("+COMMENT", Buffer.from("a test package\n")), file("share/doc/fuzz/README", bytes(r, 1 + int(r, 1200)))],
    end: END,
    tarEdits: [],
    gzip,
    gzipHeader: { flags: 0, fields: new Map() },
    gzipSplits: [],
    gzipEdits: [],
  };
}

/** The entries among the parts (inserted ones too), by index. */
const entries = (m: Model) => m.parts.filter((p): p is Extract<Part, { fields: HeaderFields }> => "fields" in p);

/** Rewrites the checksum field of a built header in the given layout, from its unsigned (or signed) sum. */
function rechecksum(layout: (sum: number) => Buffer, signed = false) {
  return (header: Buffer) => {
    const field = layout(headerSum(header, signed));
    header.fill(0, 148, 156);
    field.copy(header, 148, 0, 8);
  };
}
const latin1 = (text: string) => Buffer.from(text, "latin1");

/** A size field of 12 bytes in one of the encodings tar writers (and damage) produce. */
function sizeField(r: Rng, value: number): [string, Buffer] {
  const octal = value.toString(8);
  const variants: [string, () => Buffer][] = [
    ["octal", () => latin1(`${octal.padStart(11, "0")}\0`)],
    ["octal, space-terminated", () => latin1(`${octal.padStart(11, "0")} `)],
    ["leading blanks", () => latin1(`${octal.padStart(11, " ")}\0`)],
    ["a leading tab", () => latin1(`\t${octal.padStart(10, "0")}\0`)],
    ["minus sign", () => latin1(`-${octal.padStart(10, "0")}\0`)],
    ["garbage after the digits", () => latin1(`${octal.padStart(8, "0")}X9\0\0`.slice(0, 12))],
    ["a digit 8", () => latin1(`8${octal.padStart(10, "0")}\0`)],
    ["base-256", () => Buffer.concat([Buffer.from([0x80, 0, 0, 0]), Buffer.from(Array.from({ length: 8 }, (_, i) => Number((BigInt(value) >> BigInt(8 * (7 - i))) & 0xffn)))])],
    ["base-256 negative", () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0])],
    ["base-256 huge", () => Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ["base-256 with bit 6 (0xc0)", () => Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(10), Buffer.from([value & 0xff])])],
    ["all NUL", () => Buffer.alloc(12)],
    ["all blanks", () => Buffer.alloc(12, 0x20)],
    ["NUL then digits", () => latin1(`\0${octal.padStart(10, "0")}\0`)],
  ];
  const [name, make] = pick(r, variants);
  return [name, make()];
}

const TYPES = ["0", "\0", "1", "2", "3", "4", "5", "6", "7", "A", "D", "I", "K", "L", "M", "N", "S", "V", "X", "Z", "g", "x", "!", "\x80"];

function entryOp(r: Rng): Op {
  const index = pick(r, [0, 1, 1, 2, 2, 2]);
  const on = (label: string, edit: (e: Extract<Part, { fields: HeaderFields }>) => void): Op => ({
    label: `entry ${index}: ${label}`,
    apply: (m) => {
      const target = entries(m)[index];
      if (target) edit(target);
    },
  });
  const kind = int(r, 9);
  if (kind === 0) {
    const type = pick(r, TYPES);
    return on(`typeflag ${JSON.stringify(type)}`, (e) => void (e.fields = { ...e.fields, typeflag: type }));
  }
  if (kind === 1) {
    const delta = pick(r, [0, 0, 1, -1, 512, 513, 1024, -100, 100_000]);
    const seed = int(r, 1e9);
    return on(`size field (body length ${delta >= 0 ? "+" : ""}${delta}) as ${sizeField(random(seed), 0)[0]}`, (e) => {
      const value = Math.max(0, e.body.length + delta);
      e.fields = { ...e.fields, size: sizeField(random(seed), value)[1] };
    });
  }
  if (kind === 2) {
    const variants: [string, (header: Buffer) => void][] = [
      ["checksum as a signed sum, with a byte above 127 in uname", (h) => { h[300] = 0xe9; rechecksum((s) => latin1(`${s.toString(8).padStart(6, "0")}\0 `), true)(h); }],
      ["checksum as an unsigned sum, with a byte above 127 in uname", (h) => { h[300] = 0xe9; rechecksum((s) => latin1(`${s.toString(8).padStart(6, "0")}\0 `))(h); }],
      ["checksum one too many", rechecksum((s) => latin1(`${(s + 1).toString(8).padStart(6, "0")}\0 `))],
      ["checksum with 7 digits and a NUL", rechecksum((s) => latin1(`${s.toString(8).padStart(7, "0")}\0`))],
      ["checksum with 7 digits and a blank", rechecksum((s) => latin1(`${s.toString(8).padStart(7, "0")} `))],
      ["checksum with 8 digits", rechecksum((s) => latin1(s.toString(8).padStart(8, "0")))],
      ["checksum after leading blanks", rechecksum((s) => latin1(`${s.toString(8).padStart(7, " ")}\0`))],
      ["checksum after a leading tab", rechecksum((s) => latin1(`\t${s.toString(8).padStart(6, "0")}\0`))],
      ["checksum followed by a letter", rechecksum((s) => latin1(`${s.toString(8).padStart(6, "0")}X `))],
      ["checksum followed by NUL and a digit", rechecksum((s) => latin1(`${s.toString(8).padStart(6, "0")}\x005`))],
      ["checksum with a minus sign", rechecksum((s) => latin1(`-${s.toString(8).padStart(6, "0")}\0`))],
      ["checksum in base-256", rechecksum((s) => Buffer.from([0x80, 0, 0, 0, (s >> 24) & 0xff, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff]))],
      ["checksum field all NUL", (h) => h.fill(0, 148, 156)],
    ];
    const [label, edit] = pick(r, variants);
    return on(label, (e) => e.edits.push(edit));
  }
  if (kind === 3) {
    const magics: [string, HeaderFields["magic"]][] = [["gnu magic", "gnu"], ["no magic (v7)", "v7"], ["ustar magic, version blanks", latin1("ustar\0  ")], ["magic ustarX", latin1("ustarX00")], ["magic 'ustar  ' without NUL", latin1("ustar   ")]];
    const [label, magic] = pick(r, magics);
    return on(label, (e) => void (e.fields = { ...e.fields, magic }));
  }
  if (kind === 4) {
    const byte = pick(r, [0x58, 0, 0xff, 0x20, 0x38, 0x80]);
    return on(`mode's first byte 0x${byte.toString(16)}`, (e) => void (e.fields = { ...e.fields, mode: Buffer.concat([Buffer.from([byte]), latin1("000644\0")]) }));
  }
  if (kind === 5) {
    const names: [string, (name: string) => HeaderFields][] = [
      ["name with a trailing slash", (n) => ({ name: `${n}/` })],
      ["prefix field 'pre'", () => ({ prefix: "pre" })],
      ["prefix field 'pre/'", () => ({ prefix: "pre/" })],
      ["empty name", () => ({ name: "" })],
      ["name with a Latin-1 byte", (n) => ({ name: Buffer.concat([latin1(n), Buffer.from([0xe9])]) })],
      ["name with UTF-8", (n) => ({ name: Buffer.from(`${n}\u00e9`, "utf8") })],
      ["name a full 100 bytes", (n) => ({ name: n.padEnd(100, "x") })],
    ];
    const [label, make] = pick(r, names);
    return on(label, (e) => void (e.fields = { ...e.fields, ...make(String(e.fields.name)) }));
  }
  if (kind === 6) return on("linkname 'target'", (e) => void (e.fields = { ...e.fields, linkname: "target" }));
  if (kind === 7) return on("uname with UTF-8", (e) => void (e.fields = { ...e.fields, uname: Buffer.from("r\u00e9oot", "utf8") }));
  const offset = 257 + int(r, 255);
  const value = int(r, 256);
  return on(`byte ${offset} set to 0x${value.toString(16)}`, (e) => e.edits.push((h) => void (h[offset] = value)));
}

/** pax records, well-formed or not; `next` is the length of the body of the entry they describe. */
const PAX_RECORDS: readonly [string, (next: number) => string][] = [
  ["size=body", (n) => paxRecord(`size=${n}`)],
  ["size=body+512", (n) => paxRecord(`size=${n + 512}`)],
  ["size=body+100000", (n) => paxRecord(`size=${n + 100_000}`)],
  ["size=0", () => paxRecord("size=0")],
  ["size=-1", () => paxRecord("size=-1")],
  ["size with a leading blank", (n) => paxRecord(`size= ${n}`)],
  ["size with a trailing letter", (n) => paxRecord(`size=${n}x`)],
  ["size empty", () => paxRecord("size=")],
  ["size in hex", (n) => paxRecord(`size=0x${n.toString(16)}`)],
  ["path=+CONTENTS", () => paxRecord("path=+CONTENTS")],
  ["path=other", () => paxRecord("path=other")],
  ["path with UTF-8", () => paxRecord("path=caf\u00e9")],
  ["path with a Latin-1 byte", () => "15 path=caf\xe9\n"],
  ["hdrcharset=BINARY", () => paxRecord("hdrcharset=BINARY")],
  ["linkpath=target", () => paxRecord("linkpath=target")],
  ["uname with UTF-8", () => paxRecord("uname=r\u00e9oot")],
  ["mtime=1.5", () => paxRecord("mtime=1.5")],
  ["comment", () => paxRecord("comment=hello")],
  ["GNU.sparse.major=1 minor=0", () => paxRecord("GNU.sparse.major=1") + paxRecord("GNU.sparse.minor=0")],
  ["GNU.sparse.major=0", () => paxRecord("GNU.sparse.major=0")],
  ["GNU.sparse.map=0,10", () => paxRecord("GNU.sparse.map=0,10")],
  ["GNU.sparse.map=x", () => paxRecord("GNU.sparse.map=x")],
  ["GNU.sparse.map of the whole body", (n) => paxRecord(`GNU.sparse.map=0,${n}`)],
  ["GNU.sparse.map of two pieces and an odd offset", (n) => paxRecord(`GNU.sparse.map=0,${n >> 1},${n},${n - (n >> 1)},7`)],
  ["GNU.sparse.numblocks offset numbytes=10", () => paxRecord("GNU.sparse.numblocks=1") + paxRecord("GNU.sparse.offset=0") + paxRecord("GNU.sparse.numbytes=10")],
  ["GNU.sparse.offset alone", () => paxRecord("GNU.sparse.offset=512")],
  ["SUN.holesdata of a hole and 10 bytes", () => paxRecord("SUN.holesdata= 100 110")],
  ["SUN.holesdata of the whole body", (n) => paxRecord(`SUN.holesdata= 0 ${n}`)],
  ["GNU.sparse.size=10", () => paxRecord("GNU.sparse.size=10")],
  ["GNU.sparse.name=+CONTENTS", () => paxRecord("GNU.sparse.name=+CONTENTS")],
  ["SCHILY.acl.access=junk", () => paxRecord("SCHILY.acl.access=junk")],
  ["SUN.holesdata=x", () => paxRecord("SUN.holesdata=x")],
  ["record length one too long", () => "13 comment=x\n"],
  ["record length one too short", () => "11 comment=x\n"],
  ["record length in hex", () => "0xc comment=x\n"],
  ["record length with a plus", () => "+13 comment=x\n"],
  ["record without '='", () => "11 comment\n"],
  ["record with an empty key", () => "6 =abc\n"],
  ["record without its newline", () => "12 comment=x "],
  ["record length zero", () => "0 comment=x\n"],
  ["a NUL after the records", () => `${paxRecord("comment=x")}\0\0\0`],
  ["a NUL inside a record", () => "14 comment=x\0y\n"],
  ["blank line", () => "\n"],
];

function insertOp(r: Rng): Op {
  const position = int(r, 4);
  const at = (label: string, make: (m: Model, next: number) => Part[]): Op => ({
    label: `before entry ${position}: ${label}`,
    apply: (m) => {
      const target = entries(m)[position];
      const index = target ? m.parts.indexOf(target) : m.parts.length;
      m.parts.splice(index, 0, ...make(m, target?.body.length ?? 0));
    },
  });
  const part = (fields: HeaderFields, body: Buffer, bodyOmitted = false): Part => ({ fields, body, edits: [], ...(bodyOmitted ? { bodyOmitted } : {}) });
  const kind = int(r, 13);
  if (kind <= 2) {
    const type = kind === 2 ? "g" : "x";
    const chosen = Array.from({ length: 1 + int(r, 2) }, () => pick(r, PAX_RECORDS));
    return at(`pax '${type}' header: ${chosen.map(([l]) => l).join(", ")}`, (_m, next) => [part({ name: "PaxHeader", typeflag: type }, Buffer.from(chosen.map(([, make]) => make(next)).join(""), "latin1"))]);
  }
  if (kind === 3) {
    const variants: [string, Buffer][] = [["+CONTENTS", latin1("+CONTENTS\0")], ["+CONTENTS without NUL", latin1("+CONTENTS")], ["a long name", latin1(`${"d/".repeat(80)}file\0`)], ["empty", Buffer.alloc(0)]];
    const [label, body] = pick(r, variants);
    const type = pick(r, ["L", "K"]);
    return at(`GNU '${type}' header, ${label}`, () => [part({ name: "././@LongLink", typeflag: type, magic: "gnu" }, body)]);
  }
  if (kind === 4) {
    const size = pick(r, [0, 100, 512]);
    const omitted = r() < 0.5;
    return at(`GNU volume header 'V' of size ${size}${omitted ? ", no body" : ""}`, () => [part({ name: "volume", typeflag: "V", magic: "gnu" }, Buffer.alloc(size, 0x41), omitted)]);
  }
  if (kind === 5) {
    const acls: [string, Buffer][] = [["a POSIX.1e ACL", latin1("01000003\0user::rw-,group::r--,other::r--\0")], ["garbage", latin1("garbage\0")], ["empty", Buffer.alloc(0)]];
    const [label, body] = pick(r, acls);
    return at(`Solaris ACL header 'A', ${label}`, () => [part({ name: "acl", typeflag: "A" }, body)]);
  }
  if (kind === 6) {
    const raws: [string, () => Buffer][] = [["one zero block", () => Buffer.alloc(BLOCK)], ["a block of garbage", () => bytes(r, BLOCK)], ["a block of 0x20", () => Buffer.alloc(BLOCK, 0x20)]];
    const [label, make] = pick(r, raws);
    const raw = make();
    return at(label, () => [{ raw }]);
  }
  if (kind === 7) {
    const type = pick(r, ["1", "2", "3", "5", "6", "7", "D", "M", "N", "Z"]);
    const size = pick(r, [1, 100, 600]);
    const omitted = r() < 0.4;
    const magic = pick(r, ["ustar", "gnu", "v7"] as const);
    const body = bytes(r, size);
    return at(`'${type}' entry (${magic}) of size ${size}${omitted ? ", no body" : ""}`, () => [part({ name: type === "5" ? "dir/" : "odd", typeflag: type, linkname: "share/doc/fuzz/README", magic }, body, omitted)]);
  }
  if (kind === 8) {
    const count = pick(r, [31, 32, 33]);
    return at(`${count} empty pax 'x' headers`, () => Array.from({ length: count }, () => part({ name: "PaxHeader", typeflag: "x" }, Buffer.alloc(0))));
  }
  if (kind === 9) {
    const extended = int(r, 3);
    const body = bytes(r, 700);
    return at(`GNU sparse 'S' entry${["", ", one extension block", ", isextended without its block"][extended]}`, () => {
      const map: [number, Buffer][] = [[386, latin1("00000000000\0")], [398, latin1(`${body.length.toString(8).padStart(11, "0")}\0`)], [483, latin1(`${(4096).toString(8).padStart(11, "0")}\0`)]];
      if (extended) map.push([482, Buffer.from([1])]);
      const fields: HeaderFields = { name: "sparse", typeflag: "S", magic: "gnu", at: map };
      if (extended !== 1) return [part(fields, body)];
      const block = Buffer.alloc(BLOCK);
      latin1("00000001000\0").copy(block, 0);
      latin1("00000000000\0").copy(block, 12);
      // The extension block sits between the header and the body.
      return [{ raw: entry({ ...fields, size: body.length }).subarray(0, BLOCK) }, { raw: block }, { raw: Buffer.concat([body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)]) }];
    });
  }
  if (kind === 10) return at("a second +CONTENTS", () => [part({ name: "+CONTENTS" }, CONTENTS)]);
  if (kind === 11) {
    // GNU sparse 1.0: pax records, then a map of decimal lines at the start of the body.
    const data = bytes(r, 600);
    const maps: [string, string][] = [
      ["a map of the whole body", `1\n0\n${data.length}\n`],
      ["a map of two pieces", `2\n0\n100\n5000\n${data.length - 100}\n`],
      ["a map shorter than the body", "1\n0\n10\n"],
      ["a map with a comment line", `#c\n1\n0\n${data.length}\n`],
      ["a map with a line over 100 bytes", `1\n${"0".repeat(120)}\n${data.length}\n`],
      ["a map whose count is not a number", "x\n"],
      ["a map whose count is 2^32 + 1", `4294967297\n0\n${data.length}\n`],
      ["no map", ""],
    ];
    const [label, map] = pick(r, maps);
    const mapBlock = Buffer.concat([latin1(map), Buffer.alloc((BLOCK - (map.length % BLOCK)) % BLOCK)]);
    return at(`GNU sparse 1.0 entry, ${label}`, () => [
      part({ name: "PaxHeader", typeflag: "x" }, latin1(["GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=sparse", "GNU.sparse.realsize=8192"].map(paxRecord).join(""))),
      part({ name: "GNUSparseFile.0/sparse" }, Buffer.concat([mapBlock, data])),
    ]);
  }
  return at("'x' header then end of archive", () => [part({ name: "PaxHeader", typeflag: "x" }, latin1(paxRecord("comment=x"))), { raw: Buffer.alloc(BLOCK) }]);
}

function tailOp(r: Rng): Op {
  const kind = int(r, 7);
  const tar = (label: string, edit: (tar: Buffer) => Buffer): Op => ({ label, apply: (m) => void m.tarEdits.push(edit) });
  if (kind === 0) return { label: "no end-of-archive blocks", apply: (m) => void (m.end = Buffer.alloc(0)) };
  if (kind === 1) return { label: "one end-of-archive block", apply: (m) => void (m.end = Buffer.alloc(BLOCK)) };
  if (kind === 2) {
    const n = 1 + int(r, 700);
    return tar(`${n} bytes of garbage after the end`, (t) => Buffer.concat([t, bytes(random(n), n)]));
  }
  if (kind === 3) {
    const at = r();
    return tar(`cut at ${(at * 100).toFixed(1)}%`, (t) => t.subarray(0, Math.floor(t.length * at)));
  }
  if (kind === 4) {
    const at = r();
    return tar(`cut at a block boundary near ${(at * 100).toFixed(0)}%`, (t) => t.subarray(0, Math.floor((t.length / BLOCK) * at) * BLOCK));
  }
  if (kind === 5) {
    const back = 1 + int(r, 1100);
    return tar(`cut ${back} bytes before the end`, (t) => t.subarray(0, Math.max(0, t.length - back)));
  }
  return { label: "one zero block, then a valid entry", apply: (m) => void (m.end = Buffer.concat([Buffer.alloc(BLOCK), entry({ name: "after" }, Buffer.from("after\n")), END])) };
}

function gzipOp(r: Rng): Op {
  const kind = int(r, 9);
  const edit = (label: string, f: (gz: Buffer) => Buffer): Op => ({ label: `gzip: ${label}`, apply: (m) => void m.gzipEdits.push(f) });
  if (kind === 0) {
    const length = pick(r, [0, 4, 30]);
    const claimed = length + pick(r, [0, 0, 5, 70_000]);
    return { label: `gzip: FEXTRA of ${length} bytes, length field ${claimed}`, apply: (m) => void ((m.gzipHeader.flags |= 4), m.gzipHeader.fields.set(4, Buffer.concat([Buffer.from([claimed & 0xff, (claimed >> 8) & 0xff]), Buffer.alloc(length, 0x45)]))) };
  }
  if (kind === 1) return { label: "gzip: FNAME", apply: (m) => void ((m.gzipHeader.flags |= 8), m.gzipHeader.fields.set(8, latin1("name.tar\0"))) };
  if (kind === 2) return { label: "gzip: FCOMMENT", apply: (m) => void ((m.gzipHeader.flags |= 16), m.gzipHeader.fields.set(16, latin1("a comment\0"))) };
  if (kind === 3) return { label: "gzip: FHCRC", apply: (m) => void ((m.gzipHeader.flags |= 2), m.gzipHeader.fields.set(2, Buffer.from([0x12, 0x34]))) };
  if (kind === 4) {
    const flag = pick(r, [0x20, 0x40, 0x80, 1]);
    return { label: `gzip: flag 0x${flag.toString(16)}`, apply: (m) => void (m.gzipHeader.flags |= flag) };
  }
  if (kind === 5) {
    const at = r();
    return { label: `gzip: a second member from ${(at * 100).toFixed(0)}% of the tar`, apply: (m) => void m.gzipSplits.push(at) };
  }
  if (kind === 6) {
    const trailers: [string, () => Buffer][] = [
      ["garbage", () => bytes(r, 1 + int(r, 40))],
      ["zeros", () => Buffer.alloc(1 + int(r, 20))],
      ["a bare gzip header", () => Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])],
      ["a gzip header and garbage", () => Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), bytes(r, 20)])],
      ["an empty gzip member", () => gzipSync(Buffer.alloc(0))],
      ["a gzip member of garbage", () => gzipSync(bytes(r, 600))],
      ["a gzip member of zeros", () => gzipSync(Buffer.alloc(1024))],
      ["a gzip member cut short", () => gzipSync(bytes(r, 600)).subarray(0, 40)],
      ["a gzip header with a reserved flag", () => Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3]), gzipSync(Buffer.alloc(10)).subarray(10)])],
    ];
    const [label, make] = pick(r, trailers);
    const tail = make();
    return edit(`${label} after the member`, (gz) => Buffer.concat([gz, tail]));
  }
  if (kind === 7) {
    const back = 1 + int(r, 12);
    return edit(`cut ${back} bytes before the end`, (gz) => gz.subarray(0, Math.max(0, gz.length - back)));
  }
  return edit("trailer's CRC wrong", (gz) => Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(4, 0x33), gz.subarray(gz.length - 4)]));
}

/** One to three operations, tar and (for a gzip case) gzip ones. */
export function makeOps(r: Rng, gzip: boolean): Op[] {
  const count = 1 + int(r, 3);
  return Array.from({ length: count }, () => {
    const which = int(r, gzip ? 10 : 8);
    if (which < 3) return entryOp(r);
    if (which < 6) return insertOp(r);
    if (which < 8) return tailOp(r);
    return gzipOp(r);
  });
}

function member(data: Buffer, flags: number, fields: Map<number, Buffer>): Buffer {
  const plain = gzipSync(data);
  const header = Buffer.from(plain.subarray(0, 10));
  header[3] = flags;
  // The optional fields in RFC 1952's order: FEXTRA, FNAME, FCOMMENT, FHCRC.
  return Buffer.concat([header, ...[4, 8, 16, 2].flatMap((flag) => fields.get(flag) ?? []), plain.subarray(10)]);
}

/** The inner package the operations make. */
export function build(model: Model): Buffer {
  let tar: Buffer = Buffer.concat([
    ...model.parts.map((p) => {
      if ("raw" in p) return p.raw;
      const header = tarHeader({ size: p.body.length, ...p.fields });
      for (const edit of p.edits) edit(header);
      if (p.bodyOmitted) return header;
      return Buffer.concat([header, p.body, Buffer.alloc((BLOCK - (p.body.length % BLOCK)) % BLOCK)]);
    }),
    model.end,
  ]);
  for (const edit of model.tarEdits) tar = edit(tar);
  if (!model.gzip) return tar;
  const cuts = [...model.gzipSplits].sort().map((at) => Math.floor(tar.length * at));
  const pieces = [0, ...cuts].map((from, i) => tar.subarray(from, cuts[i] ?? tar.length));
  let gz: Buffer = Buffer.concat(pieces.map((piece, i) => (i === 0 ? member(piece, model.gzipHeader.flags, model.gzipHeader.fields) : gzipSync(piece))));
  for (const edit of model.gzipEdits) gz = edit(gz);
  return gz;
}

export function modelOf(seed: number, ops: readonly Op[], gzip: boolean): Model {
  const model = baseModel(random(seed), gzip);
  for (const op of ops) op.apply(model);
  return model;
}
