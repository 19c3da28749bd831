import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RANGE_BATCH_BYTES, RangeHasher } from "../../src/package/range-hasher.js";

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
  ])("gives the same digests as one pass, on %i threads with %i-byte blocks", async (threads, blockSize) => {
    for (const size of [data.length, 2 * RANGE_BATCH_BYTES, 1000]) {
      const hasher = new RangeHasher(threads);
      try {
        hasher.start(file, head, size, blockSize);
        expect(await hasher.digests()).toEqual(reference(data.subarray(0, size), blockSize));
      } finally {
        await hasher.close();
      }
    }
  });

  it("stops at the last whole block of a file that is shorter than the range", async () => {
    const hasher = new RangeHasher(2);
    try {
      hasher.start(file, head, data.length + 99 + 5 * 65536, 65536);
      const digests = await hasher.digests();
      const held = data.length + 99;
      expect(digests.length).toBe(Math.floor(held / 65536));
      expect(digests).toEqual(reference(data, 65536).slice(0, digests.length));
    } finally {
      await hasher.close();
    }
  });

  it("fails when the file cannot be read", async () => {
    const hasher = new RangeHasher(1);
    try {
      hasher.start(join(dir, "missing"), 0, 1 << 20, 65536);
      await expect(hasher.digests()).rejects.toThrow(/ENOENT/);
    } finally {
      await hasher.close();
    }
  });
});
