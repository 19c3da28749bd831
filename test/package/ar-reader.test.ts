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
  for (let m = await ar.next(); m; m = await ar.next()) out.push({ name: m.name, data: Buffer.from(await ar.readBody(1 << 20)).toString("latin1") });
  return out;
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

  it("reports a header cut short as truncated", async () => {
    const bytes = assembleAr([{ name: "a", data: Buffer.from("abc") }]);
    await expect(readAll(bytes.subarray(0, 30))).rejects.toThrowWithCode("PKG_TRUNCATED");
    await expect(readAll(bytes.subarray(0, bytes.length - 2))).rejects.toThrowWithCode("PKG_TRUNCATED");
  });

  it("refuses a damaged header", async () => {
    const bytes = Buffer.from(assembleAr([{ name: "a", data: Buffer.from("abc") }]));
    bytes[8 + 58] = 0x41;
    await expect(readAll(bytes)).rejects.toThrowWithCode("PKG_AR_FORMAT");
    const badSize = Buffer.from(assembleAr([{ name: "a", data: Buffer.from("abc") }]).toString("latin1").replace("3         `", "-3        `"), "latin1");
    await expect(readAll(badSize)).rejects.toThrowWithCode("PKG_AR_FORMAT");
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
