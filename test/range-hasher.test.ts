import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RANGE_BATCH_BYTES, RangeHasher } from "../src/range-hasher.js";

const reference = (bytes: Uint8Array, blockSize: number) => {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += blockSize) out.push(createHash("sha512").update(bytes.subarray(i, i + blockSize)).digest("hex"));
  return out;
};

describe("hashing a file range on threads that read it themselves", () => {
  const dir = mkdtempSync(join(tmpdir(), "range-hasher-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const head = 777;
  const data = randomBytes(2 * RANGE_BATCH_BYTES + 3 * 65536 + 12345);
  const file = join(dir, "data");
  writeFileSync(file, Buffer.concat([randomBytes(head), data, randomBytes(99)]));

  it.each([
    [1, 65536],
    [3, 65536],
    [2, 1024],
    [2, 1 << 20],
    [2, 100_000],
  ])("finds the same digests as one pass, and the first that differs, on %i threads with %i-byte blocks", async (threads, blockSize) => {
    for (const size of [data.length, 2 * RANGE_BATCH_BYTES, 1000]) {
      const expected = reference(data.subarray(0, size), blockSize);
      const wrong = (indexes: number[]) => expected.map((hex, i) => (indexes.includes(i) ? hex.replace(/^./, (c) => (c === "0" ? "1" : "0")) : hex));
      const last = expected.length - 1;
      for (const [digests, outcome] of [
        [expected, { blocks: expected.length }],
        [wrong([last]), { blocks: expected.length, firstMismatch: last }],
        [wrong([last, Math.floor(last / 2)]), { blocks: expected.length, firstMismatch: Math.floor(last / 2) }],
      ] as const) {
        const hasher = new RangeHasher(threads);
        try {
          hasher.start(file, head, size, blockSize, digests);
          expect(await hasher.outcome()).toEqual(outcome);
        } finally {
          await hasher.close();
        }
      }
    }
  });

  it("stops at the last whole block of a file that is shorter than the range", async () => {
    const hasher = new RangeHasher(2);
    try {
      const held = data.length + 99;
      const expected = reference(Buffer.concat([data, Buffer.alloc(99)]), 65536);
      hasher.start(file, head, data.length + 99 + 5 * 65536, 65536, expected);
      // The trailing 99 bytes are random, not zeros: only the last whole block held may differ.
      const outcome = await hasher.outcome();
      expect(outcome.blocks).toBe(Math.floor(held / 65536));
      expect(outcome.firstMismatch ?? outcome.blocks).toBeGreaterThanOrEqual(Math.floor(data.length / 65536));
    } finally {
      await hasher.close();
    }
  });

  it("fails when the file cannot be read", async () => {
    const hasher = new RangeHasher(1);
    try {
      hasher.start(join(dir, "missing"), 0, 1 << 20, 65536, []);
      await expect(hasher.outcome()).rejects.toThrow(/ENOENT/);
    } finally {
      await hasher.close();
    }
  });
});
