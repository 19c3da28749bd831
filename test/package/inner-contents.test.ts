import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { afterAll, describe, expect, it } from "vitest";
import { detectCompression } from "../../src/package/compression.js";
import { ContentsReader, packingListName } from "../../src/package/inner-contents.js";
import { makeableCompressions, makeInnerPackage } from "../fixtures/packages.js";
import { entry, paxEntry, tarOf as builtTar } from "../fixtures/tar-builder.js";
import { requireTools } from "../fixtures/requirements.js";

const dir = mkdtempSync(join(tmpdir(), "pkgtrust-inner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function nameOf(bytes: Uint8Array, chunk = 1000): Promise<string> {
  const reader = new ContentsReader();
  for (let i = 0; i < bytes.length && !reader.done; i += chunk) await reader.write(bytes.subarray(i, i + chunk));
  return reader.end();
}

describe("reading @name from the inner package", () => {
  it("reads a gzip'd package and stops after +CONTENTS", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "demo-1.0", payload: 300_000 });
    const reader = new ContentsReader();
    let fed = 0;
    for (let i = 0; i < inner.bytes.length && !reader.done; i += 4096) {
      await reader.write(inner.bytes.subarray(i, i + 4096));
      fed = i + 4096;
    }
    expect(await reader.end()).toBe("demo-1.0");
    expect(fed).toBeLessThan(inner.bytes.length);
  });

  it("reads an uncompressed tar", async () => {
    expect(await nameOf((await makeInnerPackage(dir, { pkgname: "plain-2.0", compression: "none" })).bytes)).toBe("plain-2.0");
  });

  it.runIf(requireTools(["sh", "tar", "gzip"], "a package made by the system's tar and gzip"))("reads a package made by the system tar and gzip", async () => {
    const tree = mkdtempSync(join(dir, "tree-"));
    execFileSync("sh", ["-c", "printf '@name sys-3.1\\n@cwd /usr/pkg\\n' > +CONTENTS && echo hi > README && tar -cf - +CONTENTS README | gzip -9 > ../sys.tgz"], { cwd: tree });
    expect(await nameOf(readFileSync(join(dir, "sys.tgz")), 7)).toBe("sys-3.1");
  });

  it("refuses a package whose first entry is not +CONTENTS", async () => {
    await expect(nameOf((await makeInnerPackage(dir, { pkgname: "x-1", firstEntry: "+COMMENT" })).bytes)).rejects.toThrowWithCode("PKG_INNER_FORMAT");
  });

  it.each(makeableCompressions(["bzip2", "xz", "zstd"] as const, "reading +CONTENTS of every compression"))("reads a %s package in chunks of any size, and stops after +CONTENTS", async (compression) => {
    const inner = await makeInnerPackage(dir, { pkgname: `${compression}-1.0`, payload: 1_200_000, compression });
    for (const chunk of [5, 4096, 65536]) {
      const reader = new ContentsReader();
      let fed = 0;
      for (; fed < inner.bytes.length && !reader.done; fed += chunk) await reader.write(inner.bytes.subarray(fed, fed + chunk));
      expect(await reader.end()).toBe(`${compression}-1.0`);
      expect(fed).toBeLessThan(inner.bytes.length);
    }
  });

  it("tells the compression by its magic bytes, not by a name", () => {
    expect(detectCompression(Buffer.from("BZh91AY&SY"))).toEqual({ compression: "bzip2" });
    expect(detectCompression(Buffer.from("BZh0"))).toEqual({ compression: "none" });
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toEqual({ compression: "xz" });
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toEqual({ compression: "zstd" });
    // A zstd skippable frame first (libarchive's zstd bidder takes 0x184D2A50 to 0x184D2A5F).
    expect(detectCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18]))).toEqual({ compression: "zstd" });
    expect(detectCompression(Buffer.from([0x5f, 0x2a, 0x4d, 0x18]))).toEqual({ compression: "zstd" });
    expect(detectCompression(Buffer.from([0x60, 0x2a, 0x4d, 0x18]))).toEqual({ compression: "none" });
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toEqual({ compression: "gzip" });
    expect(detectCompression(Buffer.from("+CONTENTS"))).toEqual({ compression: "none" });
  });

  it("refuses a compression it cannot read with its own code, naming it", async () => {
    // compress (.Z): its magic, a 16-bit code width with block mode, then codes.
    const error = await nameOf(Buffer.concat([Buffer.from([0x1f, 0x9d, 0x90]), randomBytes(2000)])).catch((e: unknown) => e);
    expect(error).toThrowWithCode("PKG_INNER_COMPRESSION");
    expect((error as Error).message).toMatch(/compress \(\.Z\)/);
  });

  it("tells LZMA-alone as libarchive's bidder does: a properties byte up to 224 and a likely dictionary size", () => {
    const header = (props: number, dictionary: number, size: bigint) => {
      const head = Buffer.alloc(14);
      head[0] = props;
      head.writeUInt32LE(dictionary, 1);
      head.writeBigUInt64LE(size, 5);
      return head;
    };
    const unknown = 0xffffffffffffffffn;
    expect(detectCompression(header(0x5d, 2 ** 23, unknown))).toEqual({ compression: "lzma" });
    expect(detectCompression(header(0x00, 2 ** 12, 100n))).toEqual({ compression: "lzma" });
    expect(detectCompression(header(0x5d, 5 * 2 ** 20, unknown))).toEqual({ compression: "lzma" });
    expect(detectCompression(header(0x5d, 5 * 2 ** 20, 100n))).toEqual({ compression: "none" });
    expect(detectCompression(header(225, 2 ** 23, unknown))).toEqual({ compression: "none" });
    expect(detectCompression(header(0x5d, 2 ** 28, unknown))).toEqual({ compression: "none" });
    expect(detectCompression(header(0x5d, 2 ** 23, unknown).subarray(0, 13))).toEqual({ compression: "none" });
  });

  it.each(makeableCompressions(["bzip2", "xz", "zstd", "gzip"] as const, "damaged streams of every compression"))("refuses a damaged %s stream", async (compression) => {
    const inner = await makeInnerPackage(dir, { pkgname: "d-1", compression });
    const damaged = Buffer.from(inner.bytes);
    damaged.fill(0x55, 12, damaged.length - 12);
    await expect(nameOf(damaged)).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    await expect(nameOf(inner.bytes.subarray(0, 40))).rejects.toThrowWithCode("PKG_INNER_FORMAT");
  });

  it.each(requireTools(["sh", "install"], "decompression bombs made by the shell") ? makeableCompressions(["bzip2", "zstd", "xz"] as const, "decompression bombs") : [])("stops a %s bomb at the cap, without holding its output", async (compression) => {
    // Pax headers of 1 MiB each, then zeros to 128 MiB, a few KiB compressed: the walk is still
    // before +CONTENTS when the output passes the cap (5 MiB), and holding it would take 25 times that.
    const prefix = join(dir, `bomb-prefix-${compression}`);
    writeFileSync(prefix, Buffer.concat(Array.from({ length: 8 }, () => entry({ name: "PaxHeader", typeflag: "x" }, Buffer.alloc(1 << 20)))));
    const compress = compression === "zstd" ? "zstd -q -c" : `${compression} -c -1`;
    const bomb = execFileSync("sh", ["-c", `{ cat "$1"; head -c 125829120 /dev/zero; } | ${compress}`, "sh", prefix], { maxBuffer: 1 << 26 });
    expect(bomb.length).toBeLessThan(1 << 20);
    const before = process.memoryUsage().rss;
    await expect(nameOf(bomb, 65536)).rejects.toThrowWithCode("PKG_CONTENTS_TOO_LARGE");
    // A generous bound: holding the output would take 128 MiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("reads +CONTENTS of a gzip member followed by garbage, as libarchive does", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "g-1" });
    expect(await nameOf(Buffer.concat([inner.bytes, Buffer.from("not a gzip member")]))).toBe("g-1");
  });

  it("refuses bytes that are neither tar nor gzip", async () => {
    await expect(nameOf(Buffer.alloc(2048, 0x41))).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    await expect(nameOf(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0]))).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    await expect(new ContentsReader().end()).rejects.toThrowWithCode("PKG_INNER_FORMAT");
  });

  it("stops at a pax header that would fill memory before +CONTENTS", async () => {
    const tar = pack();
    tar.entry({ name: "+CONTENTS", pax: { comment: "x".repeat(6 * 1024 * 1024) } }, "@name bomb-1\n");
    tar.finalize();
    const parts: Buffer[] = [];
    for await (const part of tar) parts.push(part as Buffer);
    await expect(nameOf(gzipSync(Buffer.concat(parts)), 4096)).rejects.toThrowWithCode("PKG_INNER_FORMAT");
  });

  it("refuses a +CONTENTS over 4 MiB", async () => {
    const tar = pack();
    tar.entry({ name: "+CONTENTS" }, `@name big-1\n${"@comment padding\n".repeat(300_000)}`);
    tar.finalize();
    const parts: Buffer[] = [];
    for await (const part of tar) parts.push(part as Buffer);
    await expect(nameOf(gzipSync(Buffer.concat(parts)))).rejects.toThrowWithCode("PKG_CONTENTS_TOO_LARGE");
  });

  it.each(["none", "gzip"] as const)("reads a 2.5 MiB +CONTENTS (%s) fed in 1 MiB chunks from one reused buffer", async (compression) => {
    const tar = pack();
    const filler = "@comment ".padEnd(99, "x") + "\n";
    const contents = Buffer.from(`${filler.repeat(25_000)}@name big-contents-1.0\n`);
    tar.entry({ name: "+CONTENTS", size: contents.length }, contents);
    tar.entry({ name: "data", size: 3 }, "abc");
    tar.finalize();
    const parts: Buffer[] = [];
    for await (const part of tar) parts.push(part as Buffer);
    const plain = Buffer.concat(parts);
    const bytes = compression === "gzip" ? gzipSync(plain) : plain;
    // As fileChunks does: the same buffer is refilled once the write resolved.
    const ring = Buffer.alloc(1 << 20);
    const reader = new ContentsReader({ toEnd: { innerSize: bytes.length } });
    for (let i = 0; i < bytes.length && !reader.done; i += ring.length) {
      const n = bytes.copy(ring, 0, i, i + ring.length);
      await reader.write(ring.subarray(0, n));
      ring.fill(0x41);
    }
    expect(await reader.end()).toBe("big-contents-1.0");
  });

  it("takes the first @name line of the packing list", () => {
    expect(packingListName("@comment x\n@name  foo-1.0 \n@name bar-2\n")).toBe("foo-1.0");
    expect(packingListName("@comment @name nope\n@namex y\n")).toBeUndefined();
  });
});

describe("reading the inner package to its end, as libarchive does for pkg_install", () => {
  async function readToEnd(bytes: Uint8Array, chunk = 4096, maxUnpacked?: number): Promise<string> {
    const reader = new ContentsReader({ toEnd: { innerSize: bytes.length, ...(maxUnpacked === undefined ? {} : { maxUnpacked }) } });
    for (let i = 0; i < bytes.length && !reader.done; i += chunk) await reader.write(bytes.subarray(i, i + chunk));
    return reader.end();
  }
  async function tarOf(entries: { name: string; data?: Buffer; size?: number; type?: "file" | "symlink" }[]): Promise<Buffer> {
    const tar = pack();
    for (const e of entries) tar.entry({ name: e.name, type: e.type ?? "file", ...(e.type === "symlink" ? { linkname: "x" } : {}) }, e.data ?? Buffer.alloc(0));
    tar.finalize();
    const parts: Buffer[] = [];
    for await (const part of tar) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }
  const contents = { name: "+CONTENTS", data: Buffer.from("@name whole-1.0\n") };

  it("reads every entry and stops at the end-of-archive block, whatever follows", async () => {
    const tar = await tarOf([contents, { name: "a", data: Buffer.alloc(5000, 1) }, { name: "l", type: "symlink" }]);
    expect(await readToEnd(Buffer.concat([tar, Buffer.from("junk that is no tar header at all".repeat(40))]), 7)).toBe("whole-1.0");
    expect(await readToEnd(gzipSync(tar))).toBe("whole-1.0");
  });

  it("refuses a header damaged or cut short after +CONTENTS, accepts a body cut short", async () => {
    const tar = await tarOf([contents, { name: "a", data: Buffer.alloc(5000, 1) }, { name: "b", data: Buffer.alloc(10, 2) }]);
    const second = 1024; // +CONTENTS takes a header and one block
    const damaged = Buffer.from(tar);
    damaged[second + 3] = (damaged[second + 3] ?? 0) ^ 0x20;
    await expect(readToEnd(damaged)).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    await expect(readToEnd(tar.subarray(0, second + 200))).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    expect(await readToEnd(tar.subarray(0, second + 512 + 3000))).toBe("whole-1.0");
    expect(await readToEnd(tar.subarray(0, second))).toBe("whole-1.0");
  });

  it("reads +CONTENTS as pkg_install's read_meta_data does: by pathname, with the data libarchive gives, whole", async () => {
    const list = Buffer.from("@name first-1.0\n");
    const rest = entry({ name: "a" }, Buffer.alloc(700, 1));
    const both = async (tar: Buffer) => [await nameOf(tar, 100).catch((e: { code?: string; message: string }) => `${e.code}: ${e.message}`), await readToEnd(tar, 100).catch((e: { code?: string; message: string }) => `${e.code}: ${e.message}`)];
    // A GNU dumpdir keeps its data; a directory has none (so no @name); a pax path names it.
    expect(await both(builtTar([entry({ name: "+CONTENTS", typeflag: "D", magic: "gnu" }, list), rest]))).toEqual(["first-1.0", "first-1.0"]);
    expect(await both(builtTar([entry({ name: "+CONTENTS", typeflag: "5", size: 0 }), rest]))).toEqual(Array(2).fill("PKG_INNER_FORMAT: +CONTENTS has no @name line"));
    expect(await both(builtTar([paxEntry(["path=+CONTENTS"]), entry({ name: "other" }, list), rest]))).toEqual(["first-1.0", "first-1.0"]);
    expect(await both(builtTar([paxEntry(["path=+CONTENTS/"]), entry({ name: "other" }, list), rest]))).toEqual(Array(2).fill("PKG_INNER_FORMAT: the inner package starts with '+CONTENTS/', not +CONTENTS"));
    // A sparse map or a body cut short: libarchive reads on, but pkg_add would not get the packing list as stored.
    expect(await both(builtTar([paxEntry([`GNU.sparse.map=0,${list.length}`]), entry({ name: "+CONTENTS" }, list), rest]))).toEqual(Array(2).fill("PKG_INNER_FORMAT: +CONTENTS is a sparse file, so it is not whole"));
    const cut = builtTar([entry({ name: "+CONTENTS" }, Buffer.concat([list, Buffer.alloc(2000, 0x0a)]))]).subarray(0, 1024);
    expect(await both(cut)).toEqual(Array(2).fill("PKG_INNER_FORMAT: +CONTENTS is cut short, so it is not whole"));
    expect(await both(builtTar([]))).toEqual(Array(2).fill("PKG_INNER_FORMAT: the inner package has no entry"));
  });

  it.runIf(requireTools(["sh", "tar", "install"], "a sparse file archived by GNU tar (truncate and dd from coreutils)"))("walks a file with holes as GNU tar archives it (GNU sparse 1.0, a map at the start of its body)", async () => {
    const tree = mkdtempSync(join(dir, "sparse-"));
    const script = [
      "printf '@name holes-1.0\\n' > +CONTENTS && truncate -s 3M holes",
      "printf 'data in the middle' | dd of=holes bs=1 seek=1048576 conv=notrunc 2>/dev/null",
      "tar --sparse --sparse-version=1.0 --format=posix -cf - +CONTENTS holes > ../holes.tar",
    ].join(" && ");
    execFileSync("sh", ["-c", script], { cwd: tree });
    const tar = readFileSync(join(dir, "holes.tar"));
    expect(tar.includes("GNU.sparse.major=1")).toBe(true);
    expect(await readToEnd(tar, 777)).toBe("holes-1.0");
    expect(await readToEnd(gzipSync(tar))).toBe("holes-1.0");
  });

  it("walks a GNU sparse 1.0 map of two million pieces in bounded memory (only their sum is kept)", async () => {
    const map = Buffer.from(`2000000\n${"0\n1\n".repeat(2_000_000)}`, "latin1");
    const body = Buffer.concat([map, Buffer.alloc((512 - (map.length % 512)) % 512), Buffer.alloc(2_000_000, 0x42)]);
    const records = ["GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=many", "GNU.sparse.realsize=2000000"];
    const tar = builtTar([entry({ name: "+CONTENTS" }, Buffer.from("@name many-1.0\n")), paxEntry(records), entry({ name: "GNUSparseFile.0/many" }, body)]);
    const before = process.memoryUsage().rss;
    expect(await readToEnd(gzipSync(tar), 65536)).toBe("many-1.0");
    // Two million pieces as objects would take hundreds of MiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses GNU sparse 1.0 maps of more than 16 MiB in a package, in seconds (libarchive would read on)", async () => {
    const map = Buffer.from(`${"#\n".repeat(9 * 1024 * 1024)}0\n`, "latin1");
    const body = Buffer.concat([map, Buffer.alloc((512 - (map.length % 512)) % 512)]);
    const records = ["GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=comments", "GNU.sparse.realsize=0"];
    const tar = builtTar([entry({ name: "+CONTENTS" }, Buffer.from("@name comments-1.0\n")), paxEntry(records), entry({ name: "GNUSparseFile.0/comments" }, body)]);
    const start = performance.now();
    await expect(readToEnd(gzipSync(tar), 1 << 20)).rejects.toThrow(/GNU sparse 1.0 maps of more than 16777216 bytes in one package are refused by pkgtrust/);
    expect(performance.now() - start).toBeLessThan(20_000);
  });

  it("refuses more than 4,194,304 sparse pieces in a package, in seconds", async () => {
    // Each entry's GNU 0.1 map holds 240,000 pieces in under 1 MiB of pax record; the K header
    // before it, which drops libarchive's warnings (a malformed map is one), must not drop the bound.
    const longLink = entry({ name: "././@LongLink", typeflag: "K", magic: "gnu" }, Buffer.from("target\0"));
    const many = Buffer.concat([longLink, paxEntry([`GNU.sparse.map=${"0,0,".repeat(240_000)}0,0`]), entry({ name: "f" })]);
    const tar = builtTar([entry({ name: "+CONTENTS" }, Buffer.from("@name pieces-1.0\n")), ...Array.from({ length: 20 }, () => many)]);
    const start = performance.now();
    await expect(readToEnd(gzipSync(tar), 1 << 20)).rejects.toThrow(/more than 4194304 sparse pieces in one package are refused by pkgtrust/);
    expect(performance.now() - start).toBeLessThan(20_000);
  });

  it("refuses more than 64 MiB of extension headers in a package (1 MiB of tiny pax records takes ~60 ms to parse)", async () => {
    const longName = Buffer.concat([entry({ name: "././@LongLink", typeflag: "L", magic: "gnu" }, Buffer.alloc(1 << 20, 0x61)), entry({ name: "f" })]);
    const tar = builtTar([entry({ name: "+CONTENTS" }, Buffer.from("@name names-1.0\n")), ...Array.from({ length: 65 }, () => longName)]);
    await expect(readToEnd(gzipSync(tar), 1 << 20)).rejects.toThrow(/more than 67108864 bytes of extension headers in one package are refused by pkgtrust/);
    expect(await readToEnd(gzipSync(builtTar([entry({ name: "+CONTENTS" }, Buffer.from("@name names-1.0\n")), ...Array.from({ length: 60 }, () => longName)])), 1 << 20)).toBe("names-1.0");
  });

  it("still stops at the first entry for a signer", async () => {
    const tar = await tarOf([contents, { name: "a", data: Buffer.alloc(5000, 1) }]);
    const damaged = Buffer.from(tar);
    damaged[1024 + 3] = (damaged[1024 + 3] ?? 0) ^ 0x20;
    expect(await nameOf(damaged)).toBe("whole-1.0");
  });

  it.each(requireTools(["sh", "install"], "a bomb inside a package made by the shell") ? makeableCompressions(["bzip2", "zstd", "gzip"] as const, "bombs read to the end") : [])("walks a %s package of 128 MiB of zeros without holding it, and stops at the unpacked limit", async (compression) => {
    const head = await tarOf([contents]);
    const header = (await tarOf([{ name: "zeros", data: Buffer.alloc(0) }])).subarray(0, 512);
    // The README header of a 128 MiB entry: size field and checksum rewritten.
    const big = Buffer.from(header);
    big.write((128 * 1024 * 1024).toString(8).padStart(11, "0"), 124, "latin1");
    big.fill(0x20, 148, 156);
    big.write(`${big.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const prefix = join(dir, `bomb-${compression}.tar`);
    writeFileSync(prefix, Buffer.concat([head.subarray(0, 1024), big]));
    const compressor = compression === "zstd" ? "zstd -q -c" : `${compression} -c -1`;
    const bomb = execFileSync("sh", ["-c", `(cat '${prefix}'; head -c 134218752 /dev/zero) | ${compressor}`], { maxBuffer: 1 << 26 });
    const before = process.memoryUsage().rss;
    expect(await readToEnd(bomb, 65536)).toBe("whole-1.0");
    await expect(readToEnd(bomb, 65536, 32 * 1024 * 1024)).rejects.toThrowWithCode("PKG_INNER_TOO_LARGE");
    // A generous bound: holding the output would take 128 MiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("asks for a collection after every 4 MiB of decompressed output", async () => {
    // About 10 MiB unpacked (the payload is incompressible): two collections.
    const inner = await makeInnerPackage(dir, { pkgname: "collected-1.0", payload: 10 * 1024 * 1024 });
    let collections = 0;
    const reader = new ContentsReader({ toEnd: { innerSize: inner.bytes.length }, collect: () => collections++ });
    for (let i = 0; i < inner.bytes.length && !reader.done; i += 1 << 20) await reader.write(inner.bytes.subarray(i, i + (1 << 20)));
    expect(await reader.end()).toBe("collected-1.0");
    expect(collections).toBe(2);
  });
});
