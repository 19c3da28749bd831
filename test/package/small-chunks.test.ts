import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gatherSmallChunks } from "../../src/package/small-chunks.js";

async function* numbered(sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let next = 0;
  for (const size of sizes) yield Uint8Array.from({ length: size }, () => next++ & 0xff);
}

describe("gatherSmallChunks", () => {
  it("passes the same bytes in order: small chunks in whole batches, big ones as they are", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 20 }), fc.integer({ min: 1, max: 1500 }), async (sizes, size) => {
        const direct = 2000;
        const seen: number[] = [];
        const lengths: number[] = [];
        for await (const chunk of gatherSmallChunks(numbered(sizes), size, direct)) {
          lengths.push(chunk.length);
          seen.push(...chunk);
        }
        expect(seen).toEqual(Array.from({ length: sizes.reduce((a, b) => a + b, 0) }, (_, i) => i & 0xff));
        expect(lengths.every((length) => length > 0)).toBe(true);
        expect(lengths.filter((length) => length >= direct)).toEqual(sizes.filter((length) => length >= direct));
        // Only the batch before a big chunk, and the last, may be short.
        lengths.forEach((length, i) => {
          const next = lengths[i + 1];
          if (length < size && next !== undefined && next < direct) expect.fail(`a short batch of ${length} in the middle`);
        });
      }),
    );
  });

  it("pulls only what a batch needs, and releases the source when the consumer stops early", async () => {
    let pulled = 0;
    let released = false;
    async function* counted(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield new Uint8Array(100);
        }
      } finally {
        released = true;
      }
    }
    for await (const batch of gatherSmallChunks(counted(), 1000, 500)) {
      expect(batch.length).toBe(1000);
      break;
    }
    expect(pulled).toBe(10);
    expect(released).toBe(true);
  });
});
