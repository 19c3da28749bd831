import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PackageError } from "../../src/package/errors.js";
import { formatPkgHash, parsePkgHash } from "../../src/package/pkg-hash.js";

const BLOCK = "0123456789abcdef".repeat(8);
const valid = formatPkgHash({ pkgname: "demo-1.0", blockSize: 65536, fileSize: 70000, blocks: [BLOCK, BLOCK.replace("0", "f")] });
const bytes = (text: string) => new TextEncoder().encode(text);

describe("the +PKG_HASH parser", () => {
  it("reads pkg_install's exact format", () => {
    expect(valid).toBe(`pkgsrc signature\n\nversion: 1\npkgname: demo-1.0\nalgorithm: SHA512\nblock size: 65536\nfile size: 70000\n\n${BLOCK}\nf${BLOCK.slice(1)}\nend pkgsrc signature\n`);
    expect(parsePkgHash(bytes(valid))).toEqual({ pkgname: "demo-1.0", algorithm: "SHA512", blockSize: 65536, fileSize: 70000, blocks: [BLOCK, `f${BLOCK.slice(1)}`] });
  });

  it.each([
    ["upper-case hex", valid.replace(BLOCK, BLOCK.toUpperCase())],
    ["an extra line", valid.replace("end pkgsrc", "extra\nend pkgsrc")],
    ["trailing bytes", `${valid}x`],
    ["a missing trailer", valid.replace("end pkgsrc signature\n", "")],
    ["too few block hashes", valid.replace(`${BLOCK}\n`, "")],
    ["too many block hashes", valid.replace(`${BLOCK}\n`, `${BLOCK}\n${BLOCK}\n`)],
    ["a block size under 1024", valid.replace("block size: 65536", "block size: 1000").replace("file size: 70000", "file size: 1500")],
    ["a signed number", valid.replace("file size: 70000", "file size: +70000")],
    ["a zero file size", valid.replace("file size: 70000", "file size: 0")],
    ["another algorithm", valid.replace("SHA512", "SHA256")],
    ["a space in pkgname", valid.replace("demo-1.0", "demo 1.0")],
    ["CRLF line ends", valid.replace(/\n/g, "\r\n")],
    ["a short hash", valid.replace(BLOCK, BLOCK.slice(1))],
    ["a missing blank line", valid.replace("70000\n\n", "70000\n")],
    ["version 2", valid.replace("version: 1", "version: 2")],
  ])("refuses %s", (_, text) => {
    expect(() => parsePkgHash(bytes(text))).toThrowWithCode("PKG_HASH_FORMAT");
  });

  it("accepts leading zeros in numbers, as pkg_install's strtol does", () => {
    expect(parsePkgHash(bytes(valid.replace("block size: 65536", "block size: 065536"))).blockSize).toBe(65536);
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(() => parsePkgHash(new Uint8Array([0xff, 0xfe]))).toThrowWithCode("PKG_HASH_FORMAT");
  });

  it("ends the text at its first NUL, as pkg_install's C string parse does", () => {
    const tail = Buffer.concat([Buffer.from(valid), Buffer.from([0]), Buffer.from("anything \xff\n", "latin1")]);
    expect(parsePkgHash(tail).pkgname).toBe("demo-1.0");
    expect(() => parsePkgHash(Buffer.concat([Buffer.from(valid.slice(0, 40)), Buffer.from([0]), Buffer.from(valid.slice(40))]))).toThrowWithCode("PKG_HASH_FORMAT");
  });

  it("reads an empty pkgname, as pkg_install's isgraph loop does (verification then refuses it as differing from @name)", () => {
    expect(parsePkgHash(bytes(valid.replace("demo-1.0", ""))).pkgname).toBe("");
  });

  it("gives a result or PKG_HASH_FORMAT for random and mutated input", () => {
    const input = fc.oneof(
      fc.string({ maxLength: 300 }).map(bytes),
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, value, cut]) => {
        const copy = bytes(valid);
        copy[at] = value;
        return copy.subarray(0, cut);
      }),
    );
    fc.assert(
      fc.property(input, (b) => {
        try {
          const parsed = parsePkgHash(b);
          expect(parsePkgHash(bytes(formatPkgHash(parsed)))).toEqual(parsed);
        } catch (error) {
          if (!(error instanceof PackageError) || error.code !== "PKG_HASH_FORMAT") throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
