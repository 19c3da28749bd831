import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ArReader } from "../../src/package/ar-reader.js";
import { ByteReader } from "../../src/package/byte-reader.js";
import { PackageError } from "../../src/package/errors.js";
import { assembleAr } from "../fixtures/packages.js";
import { requireTool } from "../fixtures/requirements.js";

const AR = requireTool("ar", "binutils ar's reading and writing of archives");

const dir = mkdtempSync(join(tmpdir(), "pkgtrust-ar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds the bytes in small chunks, as a network body would arrive. */
function chunked(bytes: Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })();
}

async function readAll(bytes: Uint8Array, chunk?: number): Promise<{ name: string; data: string }[]> {
  const ar = await ArReader.open(new ByteReader(chunked(bytes, chunk)));
  const out: { name: string; data: string }[] = [];
  for (let m = await ar.nextFile(); m; m = await ar.nextFile()) out.push({ name: m.name, data: Buffer.from(await ar.readBody(1 << 20)).toString("latin1") });
  return out;
}

/** An archive of one member with a raw name and size field (and its data, padded). */
function header(name: string, size: string, data = ""): Buffer {
  const text = `${name.padEnd(16)}${"0".padEnd(12)}${"0".padEnd(6)}${"0".padEnd(6)}${"644".padEnd(8)}${size.padEnd(10)}\`\n${data}${data.length % 2 ? "\n" : ""}`;
  return Buffer.from(`!<arch>\n${text}`, "latin1");
}

const MEMBERS = [
  { name: "+PKG_HASH", data: "hash text\n" },
  { name: "+PKG_SIGNATURE", data: "odd" },
  { name: "a-rather-long-package-name-1.0.tgz", data: "inner bytes" },
  { name: "with space.tgz", data: "x" },
];

describe("the ar reader", () => {
  it("reads the BSD variant that libarchive's ar_bsd writer makes, #1/NN long names included", async () => {
    const bytes = assembleAr(MEMBERS.map((m) => ({ name: m.name, data: Buffer.from(m.data) })));
    expect(bytes.toString("latin1")).toContain("#1/34");
    expect(await readAll(bytes)).toEqual(MEMBERS);
    expect(await readAll(bytes, 1)).toEqual(MEMBERS);
  });

  it.runIf(AR)("writes archives that binutils ar lists and extracts", () => {
    const members = MEMBERS.slice(0, 3);
    const file = join(dir, "bsd.a");
    writeFileSync(file, assembleAr(members.map((m) => ({ name: m.name, data: Buffer.from(m.data) }))));
    expect(execFileSync("ar", ["t", file], { encoding: "utf8" }).trim().split("\n")).toEqual(members.map((m) => m.name));
    execFileSync("ar", ["x", file], { cwd: dir });
    expect(readFileSync(join(dir, "+PKG_SIGNATURE"), "latin1")).toBe("odd");
  });

  it.runIf(AR)("reads the GNU variant with its // name table, as binutils ar writes it", async () => {
    const names = ["short.txt", "a-very-long-member-name-beyond-fifteen.tgz", "another-long-member-name.tgz"];
    names.forEach((n, i) => writeFileSync(join(dir, n), `content ${i}\n`));
    const file = join(dir, "gnu.a");
    execFileSync("ar", ["rcD", file, ...names], { cwd: dir });
    expect(readFileSync(file, "latin1")).toContain("//");
    expect(await readAll(readFileSync(file))).toEqual(names.map((name, i) => ({ name, data: `content ${i}\n` })));
  });

  it("refuses what is not an ar archive", async () => {
    await expect(readAll(Buffer.from("\x1f\x8b\x08 not an archive"))).rejects.toThrowWithCode("PKG_NOT_AR");
  });

  it("takes fewer than 60 bytes for the end of the archive, as libarchive does, and data cut short as truncated", async () => {
    const bytes = assembleAr([{ name: "a", data: Buffer.from("abc") }]);
    expect(await readAll(bytes.subarray(0, 30))).toEqual([]);
    await expect(readAll(bytes.subarray(0, bytes.length - 2))).rejects.toThrowWithCode("PKG_TRUNCATED");
  });

  it("refuses a damaged header", async () => {
    const bytes = Buffer.from(assembleAr([{ name: "a", data: Buffer.from("abc") }]));
    bytes[8 + 58] = 0x41;
    await expect(readAll(bytes)).rejects.toThrowWithCode("PKG_AR_FORMAT");
    await expect(readAll(header(" ".repeat(16), "3"))).rejects.toThrowWithCode("PKG_AR_FORMAT");
  });

  it("reads sizes and lengths as libarchive's ar_atol10: blanks first, digits up to any other byte, none is 0", async () => {
    for (const size of ["  3", "\t3", "003", "3x", "3 7", "3\0"]) expect(await readAll(header("a", size, "abc"))).toEqual([{ name: "a", data: "abc" }]);
    for (const size of ["-3", "+3", ""]) expect(await readAll(header("a", size))).toEqual([{ name: "a", data: "" }]);
    for (const length of [" 3", "3z"]) expect(await readAll(header(`#1/${length}`, "6", "+Xyabc"))).toEqual([{ name: "+Xy", data: "abc" }]);
  });

  it("ends names at a NUL, trims trailing spaces and one '/' only without one", async () => {
    const names = { "+PKG_HASH\0junk": "+PKG_HASH", "+PKG_HASH\0": "+PKG_HASH", "+PKG_HASH/\0": "+PKG_HASH/", "+PKG_HASH/  ": "+PKG_HASH", "+PKG_HASH//": "+PKG_HASH/", "/": "/", "#1/": "#1", "+PKG_HASH\t": "+PKG_HASH\t" };
    for (const [raw, name] of Object.entries(names)) expect(await readAll(header(raw, "1", "x"))).toEqual([{ name, data: "x" }]);
    expect(await readAll(header("#1/7", "8", "+X\0abcdz"))).toEqual([{ name: "+X", data: "z" }]);
    expect(await readAll(header("#1/0", "1", "z"))).toEqual([{ name: "", data: "z" }]);
  });

  it("reads the GNU name table as libarchive does: returned as '//' of size 0, skipped by nextFile, its rules enforced", async () => {
    const gnu = (table: string, ref = "/0") => Buffer.concat([header("//", String(table.length), table).subarray(8), header(ref, "1", "x").subarray(8)]);
    const archive = (...parts: Buffer[]) => Buffer.concat([Buffer.from("!<arch>\n"), ...parts]);
    const ar = await ArReader.open(new ByteReader(chunked(archive(gnu("+PKG_HASH/\n")))));
    expect(await ar.next()).toEqual({ name: "//", size: 0 });
    expect(await ar.next()).toEqual({ name: "+PKG_HASH", size: 1 });
    // The last name may end in a newline or '`' alone; a name may hold a newline; "/N" is ar_atol10 of what follows '/'.
    expect(await readAll(archive(gnu("+PKG_HASH\n")))).toEqual([{ name: "+PKG_HASH", data: "x" }]);
    expect(await readAll(archive(gnu("+PKG_HASH`")))).toEqual([{ name: "+PKG_HASH", data: "x" }]);
    expect(await readAll(archive(gnu("a\nb/\n")))).toEqual([{ name: "a\nb", data: "x" }]);
    expect(await readAll(archive(gnu("xx+PKG_HASH/\n", "/2q")))).toEqual([{ name: "+PKG_HASH", data: "x" }]);
    // "Invalid string table", a second table, an empty one, a reference past its end.
    for (const bad of [gnu("a/b/\n"), gnu("odd/\nx"), Buffer.concat([gnu("a/\n"), gnu("a/\n")]), gnu("", "x"), gnu("a/\n", "/9")]) {
      await expect(readAll(archive(bad))).rejects.toThrowWithCode("PKG_AR_FORMAT");
    }
  });

  it("caps members read into memory", async () => {
    const ar = await ArReader.open(new ByteReader(chunked(assembleAr([{ name: "+PKG_HASH", data: Buffer.alloc(2000) }]))));
    await ar.next();
    await expect(ar.readBody(1000)).rejects.toThrowWithCode("PKG_MEMBER_TOO_LARGE");
  });

  it("gives a result or a coded PackageError for random and mutated input", async () => {
    const valid = assembleAr(MEMBERS.map((m) => ({ name: m.name, data: Buffer.from(m.data) })));
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.concat([Buffer.from("!<arch>\n"), b])),
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, value, cut]) => {
        const copy = Buffer.from(valid);
        copy[at] = value;
        return copy.subarray(0, Math.max(cut, 8));
      }),
    );
    await fc.assert(
      fc.asyncProperty(input, fc.integer({ min: 1, max: 64 }), async (bytes, chunk) => {
        try {
          await readAll(bytes, chunk);
        } catch (error) {
          if (!(error instanceof PackageError)) throw error;
        }
      }),
      { numRuns: 400 },
    );
  });
});
