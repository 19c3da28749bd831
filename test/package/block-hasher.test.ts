import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BlockHasher } from "../../src/package/block-hasher.js";
import { ParallelBlockHasher } from "../../src/package/parallel-block-hasher.js";

const reference = (bytes: Uint8Array, blockSize: number) => {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += blockSize) out.push(createHash("sha512").update(bytes.subarray(i, i + blockSize)).digest("hex"));
  return out;
};

describe("block hashing", () => {
  const data = randomBytes(3 * 65536 + 12345);

  it.each([1000, 65536, 100_000, 1 << 20])("hashes each block the same in chunks of %i bytes, on one thread and on workers", async (chunk) => {
    for (const size of [data.length, 3 * 65536]) {
      const bytes = data.subarray(0, size);
      const serial: string[] = [];
      const parallel: string[] = [];
      const one = new BlockHasher(65536, (i, hex) => (serial[i] = hex));
      const many = new ParallelBlockHasher(65536, (i, hex) => (parallel[i] = hex));
      for (let i = 0; i < bytes.length; i += chunk) {
        one.update(bytes.subarray(i, i + chunk));
        await many.update(bytes.subarray(i, i + chunk));
      }
      expect(one.finish()).toBe(Math.ceil(size / 65536));
      expect(await many.finish()).toBe(Math.ceil(size / 65536));
      expect(serial).toEqual(reference(bytes, 65536));
      expect(parallel).toEqual(serial);
    }
  });

  it("stops with the callback's error on a worker result", async () => {
    const many = new ParallelBlockHasher(1024, (i) => {
      if (i === 1500) throw new Error("mismatch");
    });
    const run = async () => {
      for (let i = 0; i < 4 << 20; i += 65536) await many.update(data.subarray(0, 65536));
      await many.finish();
    };
    await expect(run()).rejects.toThrow("mismatch");
    await many.close();
  });
});
