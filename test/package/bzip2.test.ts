import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Bzip2Decoder } from "../../src/package/bzip2.js";
import { requireTool } from "../fixtures/requirements.js";
import { pushDecoding, TEXT as text } from "./push-decoders.js";

const BLOCK = 65536;
const bzip2 = (data: Uint8Array, level = 9) => execFileSync("bzip2", [`-${level}`, "-c"], { input: data, maxBuffer: 1 << 28 });

const { decode, decodeOk, roundTrips, flipsFailOrDecode, abandonedLeavesOthersExact } = pushDecoding((emit) => new Bzip2Decoder(emit));

describe.runIf(requireTool("bzip2", "libbzip2's decoder against the bzip2 command"))("bzip2 decoding with libbzip2 (WebAssembly)", () => {
  it("decodes what the bzip2 command makes, whatever the write sizes, in full 64 KiB blocks", () => {
    for (const [data, level] of [[text, 1], [randomBytes(300_000), 9], [Buffer.from("x"), 9]] as const) {
      const compressed = bzip2(data, level);
      roundTrips(compressed, data, BLOCK);
    }
  });

  it("decodes an empty stream to nothing", () => {
    const empty = bzip2(Buffer.alloc(0));
    expect(empty.length).toBe(14);
    expect(decodeOk(empty).length).toBe(0);
  });

  it("reads concatenated streams as one, as pbzip2 and `cat a.bz2 b.bz2` make them", () => {
    const parts = [text.subarray(0, 70_000), Buffer.alloc(0), text.subarray(70_000)];
    const joined = Buffer.concat(parts.map((part) => bzip2(part, 1)));
    for (const chunk of [7, 1000, BLOCK]) expect(decodeOk(joined, chunk).equals(text)).toBe(true);
  });

  it("ends the data quietly where the next bytes do not bid as a stream (libarchive's bzip2_reader_bid)", () => {
    const stream = bzip2(text.subarray(0, 1000));
    const expected = text.subarray(0, 1000);
    for (const tail of ["x", "not a bzip2 stream at all", "BZh9", "BZh91AY&SY", "BZh0" + "1AY&SY" + "....", "BZh9" + "1AY&SX" + "...."]) {
      expect(decodeOk(Buffer.concat([stream, Buffer.from(tail, "latin1")]), 5).equals(expected)).toBe(true);
    }
  });

  it("refuses a damaged stream after a good one, and never hands on the block it was filling", () => {
    const damaged = Buffer.from(bzip2(Buffer.alloc(5000, 0x42)));
    damaged.fill(0x55, 20, damaged.length - 12);
    const { blocks, error } = decode(Buffer.concat([bzip2(text.subarray(0, 1000)), damaged]));
    expect(error?.message).toMatch(/damaged/);
    expect(blocks).toEqual([]);
  });

  it("refuses a stream cut short, after handing on only the full blocks before the cut", () => {
    const compressed = bzip2(text, 1);
    const { blocks, error } = decode(compressed.subarray(0, compressed.length - 5));
    expect(error?.message).toMatch(/cut short/);
    expect(blocks.every((block) => block.length === BLOCK)).toBe(true);
    expect(Buffer.concat(blocks).equals(text.subarray(0, blocks.length * BLOCK))).toBe(true);
  });

  it("refuses data that is not bzip2 from the start, or too short to tell", () => {
    expect(decode(Buffer.from("BZh91AY&SX not quite")).error?.message).toMatch(/not bzip2/);
    expect(decode(Buffer.from("BZh9")).error?.message).toMatch(/not bzip2/);
  });

  it("refuses a flipped bit anywhere, or decodes it to the original (a bit the format ignores)", () => {
    const data = text.subarray(0, 20_000);
    const compressed = bzip2(data);
    flipsFailOrDecode(compressed, data);
  });

  it("gives exact output from decoders started while another is left midway", () => {
    const compressed = bzip2(text, 1);
    abandonedLeavesOthersExact(compressed, text);
  });
});
