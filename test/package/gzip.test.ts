import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipStream, peekGzipHeader } from "../../src/package/gzip.js";

const BLOCK = 65536;
const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} of a packing list ${i % 7}\n`).join(""));

/** Decodes `input` written in `chunk`-byte pieces; the output pieces as they came, or the error. */
async function decode(input: Uint8Array, chunk = BLOCK, outputChunk = 256 * 1024): Promise<{ pieces: Buffer[]; error?: Error }> {
  const stream = gzipStream(outputChunk);
  const pieces: Buffer[] = [];
  const feeding = (async () => {
    for (let at = 0; at < input.length && !stream.destroyed; at += chunk) {
      if (!stream.write(input.subarray(at, at + chunk))) await new Promise((resolve) => stream.once("drain", resolve).once("close", resolve));
    }
    stream.end();
  })();
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) pieces.push(Buffer.from(piece));
    return { pieces };
  } catch (error) {
    return { pieces, error: error as Error };
  } finally {
    await feeding;
  }
}

async function decodeOk(input: Uint8Array, chunk?: number): Promise<Buffer> {
  const { pieces, error } = await decode(input, chunk);
  if (error) throw error;
  return Buffer.concat(pieces);
}

/** A member with every optional header field: FEXTRA, FNAME, FCOMMENT, FHCRC. */
function memberWithFields(data: Buffer): Buffer {
  const plain = gzipSync(data);
  const header = Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]);
  const extra = Buffer.concat([Buffer.from([5, 0]), Buffer.from("extra")]);
  return Buffer.concat([header, extra, Buffer.from("name\0comment\0"), Buffer.from([0xab, 0xcd]), plain.subarray(10)]);
}

describe("gzip as libarchive's gzip filter reads it", () => {
  it("decodes gzip whatever the write sizes, handing on output only up to a 64 KiB boundary until the end", async () => {
    const compressed = gzipSync(text);
    for (const chunk of [1, 7, 4096, BLOCK, compressed.length]) {
      if (chunk === 1 && compressed.length > 100_000) continue;
      const { pieces, error } = await decode(compressed, chunk);
      expect(error).toBeUndefined();
      expect(Buffer.concat(pieces).equals(text)).toBe(true);
      // Every boundary between pieces but the last lies on a 64 KiB boundary of the output.
      let total = 0;
      for (const piece of pieces.slice(0, -1)) total += piece.length;
      expect(total % BLOCK).toBe(0);
    }
  });

  it("reads every header field, and concatenated members as one", async () => {
    expect(peekGzipHeader(memberWithFields(Buffer.from("x")))).toBe(10 + 7 + 13 + 2);
    const joined = Buffer.concat([gzipSync(text.subarray(0, 70_000)), memberWithFields(Buffer.alloc(0)), memberWithFields(text.subarray(70_000))]);
    for (const chunk of [5, 1000, BLOCK]) expect((await decodeOk(joined, chunk)).equals(text)).toBe(true);
  });

  it("does not check the trailer's CRC and length, but needs its 8 bytes", async () => {
    const compressed = gzipSync(text.subarray(0, 1000));
    const wrong = Buffer.concat([compressed.subarray(0, -8), Buffer.alloc(8, 0x33)]);
    expect((await decodeOk(wrong)).equals(text.subarray(0, 1000))).toBe(true);
    expect((await decode(compressed.subarray(0, -4))).error?.message).toMatch(/cut short/);
    expect((await decode(compressed.subarray(0, -8))).error?.message).toMatch(/cut short/);
  });

  it("ends the data quietly where the next bytes are not a header libarchive's bidder takes", async () => {
    const member = gzipSync(text.subarray(0, 1000));
    const reserved = Buffer.from(gzipSync(Buffer.from("more")));
    reserved[3] = 0x20;
    for (const tail of [Buffer.from("x"), Buffer.from("not a gzip member"), Buffer.from([0x1f, 0x8b, 8, 0]), reserved, Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3, 0x41, 0x42])]) {
      expect((await decodeOk(Buffer.concat([member, tail]), 3)).equals(text.subarray(0, 1000))).toBe(true);
    }
  });

  it("refuses a first header the bidder would not take: gzip is then not the format at all", async () => {
    const compressed = Buffer.from(gzipSync(Buffer.from("data")));
    compressed[3] = 0x40;
    expect((await decode(compressed)).error?.message).toMatch(/not gzip/);
    expect((await decode(Buffer.from([0x1f, 0x8b, 8, 0, 0]))).error?.message).toMatch(/not gzip/);
  });

  it("refuses a damaged member after a good one, and never hands on the block it was filling", async () => {
    const damaged = Buffer.from(gzipSync(randomBytes(5000)));
    damaged.fill(0x55, 12, damaged.length - 8);
    const { pieces, error } = await decode(Buffer.concat([gzipSync(text.subarray(0, 1000)), damaged]));
    expect(error).toBeDefined();
    expect(pieces).toEqual([]);
  });

  it("refuses deflate data cut short, after handing on only the full blocks before the cut", async () => {
    const compressed = gzipSync(text);
    const { pieces, error } = await decode(compressed.subarray(0, compressed.length - 2000), 4096);
    expect(error).toBeDefined();
    const out = Buffer.concat(pieces);
    expect(out.length % BLOCK).toBe(0);
    expect(out.equals(text.subarray(0, out.length))).toBe(true);
  });
});
