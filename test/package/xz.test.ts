import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { XzDecoder } from "../../src/package/xz.js";
import { requireTool } from "../fixtures/requirements.js";
import { pushDecoding, TEXT as text } from "./push-decoders.js";

const BLOCK = 65536;
const xz = (data: Uint8Array, ...flags: string[]) => execFileSync("xz", ["-c", ...flags], { input: data, maxBuffer: 1 << 28 });

const { decode, decodeOk, roundTrips, flipsFailOrDecode, abandonedLeavesOthersExact } = pushDecoding((emit) => new XzDecoder(emit));

describe.runIf(requireTool("xz", "liblzma's decoder against the xz command"))("xz decoding with liblzma (WebAssembly)", () => {
  it("decodes what the xz command makes, whatever the write sizes, in full 64 KiB blocks", () => {
    for (const [data, flags] of [[text, ["-9"]], [randomBytes(300_000), []], [Buffer.from("x"), []], [Buffer.alloc(0), []]] as const) {
      const compressed = xz(data, ...flags);
      roundTrips(compressed, data, BLOCK);
    }
  });

  it("decodes every filter chain and integrity check liblzma has", () => {
    const data = text.subarray(0, 100_000);
    const chains = [["--x86"], ["--powerpc"], ["--ia64"], ["--arm"], ["--armthumb"], ["--arm64"], ["--sparc"], ["--delta=dist=4"], ["--x86", "--delta=dist=2"]];
    for (const chain of chains) expect(decodeOk(xz(data, ...chain, "--lzma2")).equals(data)).toBe(true);
    for (const check of ["none", "crc32", "crc64", "sha256"]) expect(decodeOk(xz(data, `--check=${check}`)).equals(data)).toBe(true);
    expect(decodeOk(xz(data, "--block-size=10000"), 777).equals(data)).toBe(true);
  });

  it("reads concatenated streams with padding in multiples of four bytes, and nothing else after a stream", () => {
    const joined = Buffer.concat([xz(text.subarray(0, 70_000)), Buffer.alloc(8), xz(Buffer.alloc(0)), xz(text.subarray(70_000)), Buffer.alloc(4)]);
    for (const chunk of [7, 1000, BLOCK]) expect(decodeOk(joined, chunk).equals(text)).toBe(true);
    const stream = xz(text.subarray(0, 1000));
    for (const tail of [Buffer.alloc(3), Buffer.alloc(5), Buffer.from("not an xz stream")]) {
      const { blocks, error } = decode(Buffer.concat([stream, tail]));
      expect(error?.message).toMatch(/xz/);
      expect(blocks).toEqual([]);
    }
  });

  it("refuses a damaged check, index or footer", () => {
    for (const check of ["crc32", "crc64", "sha256"]) {
      const damaged = Buffer.from(xz(text.subarray(0, 1000), `--check=${check}`));
      const checkEnd = damaged.length - 12 - (damaged.readUInt32LE(damaged.length - 8) + 1) * 4;
      damaged[checkEnd - 1] = (damaged[checkEnd - 1] ?? 0) ^ 1;
      expect(decode(damaged).error?.message).toMatch(/damaged/);
    }
    for (const fromEnd of [14, 6]) {
      const damaged = Buffer.from(xz(text.subarray(0, 1000)));
      damaged[damaged.length - fromEnd] = (damaged[damaged.length - fromEnd] ?? 0) ^ 1;
      expect(decode(damaged).error?.message).toMatch(/damaged/);
    }
  });

  it("refuses a stream cut short, after handing on only the full blocks before the cut", () => {
    const compressed = xz(text, "-1");
    const { blocks, error } = decode(compressed.subarray(0, compressed.length - 40));
    expect(error?.message).toMatch(/cut short|damaged/);
    expect(blocks.every((block) => block.length === BLOCK)).toBe(true);
    expect(Buffer.concat(blocks).equals(text.subarray(0, blocks.length * BLOCK))).toBe(true);
  });

  it("refuses data that is not xz, LZMA-alone included", () => {
    expect(decode(Buffer.from("not xz at all")).error?.message).toMatch(/not xz/);
    expect(decode(execFileSync("xz", ["--format=lzma", "-c"], { input: text.subarray(0, 1000) })).error?.message).toMatch(/not xz/);
  });

  it("refuses a flipped bit anywhere, or decodes it to the original (a bit the format ignores)", () => {
    const data = text.subarray(0, 20_000);
    const compressed = xz(data);
    flipsFailOrDecode(compressed, data);
  });

  it("gives exact output from decoders started while another is left midway", () => {
    const compressed = xz(text, "-1");
    abandonedLeavesOthersExact(compressed, text);
  });
});
