import { describe, expect, it } from "vitest";
import { OutputBlocks } from "../../src/package/output-blocks.js";

describe("output handed on in blocks, as libarchive's filters fill their out_block", () => {
  it("hands on only whole blocks until the data ends, then the rest, in order and without loss", () => {
    const out: Buffer[] = [];
    const blocks = new OutputBlocks((data) => out.push(data), 10);
    const input = Buffer.from("abcdefghijklmnopqrstuvwxyz0123456789");
    expect(blocks.add(input.subarray(0, 4))).toBe(false);
    expect(out).toEqual([]);
    expect(blocks.add(input.subarray(4, 23))).toBe(true);
    expect(Buffer.concat(out).toString()).toBe("abcdefghijklmnopqrst");
    expect(blocks.add(input.subarray(23, 29))).toBe(false);
    expect(Buffer.concat(out).length).toBe(20);
    expect(blocks.add(input.subarray(29, 31))).toBe(true);
    expect(Buffer.concat(out).toString()).toBe("abcdefghijklmnopqrstuvwxyz0123");
    blocks.end();
    expect(Buffer.concat(out).toString()).toBe(input.subarray(0, 31).toString());
  });

  it("never hands on a partial block if the data does not end cleanly", () => {
    const out: Buffer[] = [];
    const blocks = new OutputBlocks((data) => out.push(data), 10);
    blocks.add(Buffer.alloc(25, 1));
    expect(Buffer.concat(out).length).toBe(20);
  });
});
