/** Fuzzing the signed-package parsers: the ar reader, +PKG_HASH and the inner package's reader (see harness.ts). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AR_MAGIC, ArReader } from "../../src/package/ar-reader.js";
import { ByteReader } from "../../src/package/byte-reader.js";
import { ContentsReader } from "../../src/package/inner-contents.js";
import { formatPkgHash, parsePkgHash } from "../../src/package/pkg-hash.js";
import { makeableCompressions, makeInnerPackage } from "../fixtures/packages.js";
import { chunked, fuzz, FUZZ_TIMEOUT_MS, mutated, mutatedBytes } from "./harness.js";

const latin1 = (text: string) => Buffer.from(text, "latin1");

/** One ar member, header fields as libarchive reads them, sometimes wrong. */
const member = fc
  .record({
    name: fc.oneof(
      fc.constantFrom("+PKG_HASH", "+PKG_SIGNATURE", "+PKG_GPG_SIGNATURE", "demo-1.0.tgz", "/", "//", "/0", "/18", "x/"),
      fc.string({ maxLength: 16 }),
      fc.nat(40).map((n) => `#1/${n}`),
    ),
    longName: fc.string({ maxLength: 40 }),
    data: fc.uint8Array({ maxLength: 300 }),
    size: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.oneof(fc.nat(1000).map(String), fc.string({ maxLength: 10 }), fc.constant("99999999999")) }),
    magic: fc.oneof({ weight: 9, arbitrary: fc.constant("`\n") }, { weight: 1, arbitrary: fc.constant("\n`") }),
  })
  .map(({ name, longName, data, size, magic }) => {
    const long = /^#1\/(\d+)$/.exec(name);
    const body = long ? Buffer.concat([latin1(longName.padEnd(Number(long[1]), "\0").slice(0, Number(long[1]))), data]) : Buffer.from(data);
    const header = `${name.padEnd(16).slice(0, 16)}${"0".padEnd(12)}${"0".padEnd(6)}${"0".padEnd(6)}${"100644".padEnd(8)}${(size ?? String(body.length)).padEnd(10).slice(0, 10)}${magic}`;
    return Buffer.concat([latin1(header), body, body.length % 2 === 1 ? latin1("\n") : Buffer.alloc(0)]);
  });

const wellFormed = fc
  .tuple(fc.oneof({ weight: 9, arbitrary: fc.constant(AR_MAGIC) }, { weight: 1, arbitrary: fc.constantFrom("!<arch>\r\n", "") }), fc.array(member, { maxLength: 5 }))
  .map(([magic, members]) => new Uint8Array(Buffer.concat([latin1(magic), ...members])));
const archive = mutatedBytes(wellFormed);

/** Reads every member as verify-package does: small members whole, others streamed or skipped. */
async function readArchive([bytes, chunk]: [Uint8Array, number]): Promise<void> {
  const reader = await ArReader.open(new ByteReader(chunked(bytes, chunk)));
  let index = 0;
  for (let entry = await reader.next(); entry !== undefined; entry = await reader.next()) {
    if (index++ % 3 === 0) await reader.readBody(256, entry.name);
    else if (index % 3 === 1) for await (const part of reader.body(entry.name)) expect(part.length).toBeGreaterThan(0);
  }
}

const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 128, maxLength: 128 });
const pkgHashText = mutated(
  fc
    .record({
      pkgname: fc.oneof(fc.constant("digest-20220214"), fc.string({ minLength: 1, maxLength: 20 })),
      blockSize: fc.oneof(fc.constant(65536), fc.nat(70000)),
      fileSize: fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.nat()),
      extra: fc.integer({ min: -1, max: 1 }),
      block: hex,
    })
    .map(({ pkgname, blockSize, fileSize, extra, block }) => {
      const count = Math.max(0, Math.min(8, Math.ceil(fileSize / Math.max(blockSize, 1)) + extra));
      return formatPkgHash({ pkgname, blockSize, fileSize, blocks: Array.from({ length: count }, () => block) });
    }),
);

/** Reads an inner package as verify-package does: @name, then the walk to the end of its tar. */
async function readInner([bytes, chunk]: [Uint8Array, number]): Promise<void> {
  const reader = new ContentsReader({ toEnd: { innerSize: bytes.length } });
  for (const part of Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk))) {
    if (reader.done) break;
    await reader.write(part);
  }
  await reader.end();
}

const innerDir = mkdtempSync(join(tmpdir(), "pkgtrust-fuzz-inner-"));
const innerPackages: Uint8Array[] = [];
beforeAll(async () => {
  for (const compression of makeableCompressions(["gzip", "bzip2", "xz", "zstd", "none"] as const, "fuzzing the inner package of every compression")) {
    innerPackages.push((await makeInnerPackage(innerDir, { pkgname: "fuzz-1.0", compression, payload: 3000 })).bytes);
  }
});
afterAll(() => rmSync(innerDir, { recursive: true, force: true }));

describe("fuzzing", () => {
  it(
    "the inner package's reader, every compression: only coded errors, each case bounded",
    async () => {
      const inner = mutatedBytes(fc.constantFrom(...innerPackages));
      const report = await fuzz("inner package", fc.tuple(inner, fc.integer({ min: 1, max: 4096 })), readInner);
      expect(report.outcomes.ok).toBeGreaterThan(0);
      expect(report.outcomes.PKG_INNER_FORMAT).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "the ar reader: only coded errors, each case bounded",
    async () => {
      const report = await fuzz("ar", fc.tuple(archive, fc.integer({ min: 1, max: 512 })), readArchive);
      expect(report.outcomes.ok).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "+PKG_HASH: only coded errors, each case bounded",
    async () => {
      const input = fc.oneof(pkgHashText.map((t) => new Uint8Array(Buffer.from(t))), fc.uint8Array({ maxLength: 400 }), fc.string({ unit: "binary" }).map((t) => new Uint8Array(Buffer.from(t))));
      const report = await fuzz("+PKG_HASH", input, parsePkgHash);
      expect(report.outcomes.ok).toBeGreaterThan(0);
      expect(report.outcomes.PKG_HASH_FORMAT).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
