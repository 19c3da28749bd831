import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ZstdDecoder } from "../../src/package/zstd.js";
import { requireTool } from "../fixtures/requirements.js";
import { pushDecoding, TEXT as text } from "./push-decoders.js";

/** libarchive's zstd output block: ZSTD_DStreamOutSize(). */
const BLOCK = 131072;
const zstd = (data: Uint8Array, ...flags: string[]) => execFileSync("zstd", ["-q", "-c", ...flags], { input: data, maxBuffer: 1 << 28 });

const { decode, decodeOk, roundTrips, flipsFailOrDecode, abandonedLeavesOthersExact } = pushDecoding((emit) => new ZstdDecoder(emit));

const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from("skip!")]);

describe.runIf(requireTool("zstd", "libzstd's decoder against the zstd command"))("zstd decoding with libzstd (WebAssembly)", () => {
  it("decodes what the zstd command makes, whatever the write sizes, in full 128 KiB blocks", () => {
    for (const [data, flags] of [[text, ["-19"]], [randomBytes(300_000), []], [Buffer.from("x"), []], [text, ["--no-check", "-1"]]] as const) {
      const compressed = zstd(data, ...flags);
      roundTrips(compressed, data, BLOCK);
    }
  });

  it("reads concatenated and skippable frames as one, an empty frame as nothing", () => {
    const parts = [text.subarray(0, 70_000), Buffer.alloc(0), text.subarray(70_000)];
    const joined = Buffer.concat([skippable, ...parts.map((part) => zstd(part)), skippable]);
    for (const chunk of [7, 1000, 65536]) expect(decodeOk(joined, chunk).equals(text)).toBe(true);
    expect(decodeOk(zstd(Buffer.alloc(0))).length).toBe(0);
  });

  it("refuses anything after a frame that is not a frame, zero padding too (ZSTD_initDStream starts each)", () => {
    const frame = zstd(text.subarray(0, 1000));
    for (const tail of [Buffer.from("x"), Buffer.alloc(8), Buffer.from("not a zstd frame at all")]) {
      const { blocks, error } = decode(Buffer.concat([frame, tail]));
      expect(error?.message).toMatch(/libzstd|cut short/);
      expect(blocks).toEqual([]);
    }
  });

  it("refuses a wrong checksum and a window beyond libzstd's default limit (2^27)", () => {
    const frame = zstd(text.subarray(0, 1000));
    expect(decode(Buffer.concat([frame.subarray(0, frame.length - 4), Buffer.alloc(4, 0x33)])).error?.message).toMatch(/checksum/);
    expect(decode(zstd(text.subarray(0, 1000), "--long=28")).error?.message).toMatch(/too much memory/);
    expect(decodeOk(zstd(text.subarray(0, 1000), "--long=27")).equals(text.subarray(0, 1000))).toBe(true);
  });

  it("refuses a frame cut short, after handing on only the full blocks before the cut", () => {
    const compressed = zstd(text, "-1");
    const { blocks, error } = decode(compressed.subarray(0, compressed.length - 5));
    expect(error?.message).toMatch(/cut short/);
    expect(blocks.every((block) => block.length === BLOCK)).toBe(true);
    expect(Buffer.concat(blocks).equals(text.subarray(0, blocks.length * BLOCK))).toBe(true);
  });

  it("refuses a damaged frame after a good one, and never hands on the block it was filling", () => {
    const damaged = Buffer.from(zstd(randomBytes(5000)));
    damaged.fill(0x55, 12, damaged.length - 4);
    const { blocks, error } = decode(Buffer.concat([zstd(text.subarray(0, 1000)), damaged]));
    expect(error?.message).toMatch(/libzstd/);
    expect(blocks).toEqual([]);
  });

  it("refuses a flipped bit anywhere, or decodes it to the original (a bit the format ignores)", () => {
    const data = text.subarray(0, 20_000);
    const compressed = zstd(data);
    flipsFailOrDecode(compressed, data);
  });

  it("gives exact output from decoders started while another is left midway", () => {
    const compressed = zstd(text, "-1");
    abandonedLeavesOthersExact(compressed, text);
  });
});
