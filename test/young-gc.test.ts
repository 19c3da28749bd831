import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { youngCollector } from "../src/young-gc.js";

describe("V8's young-generation collection for the walk of a big package", () => {
  it("frees spent buffers outside V8's heap, which V8 alone leaves for later", async () => {
    const collect = youngCollector();
    const before = process.memoryUsage().arrayBuffers;
    // 8 MiB in node:zlib's 256 KiB outputs, dropped at once: below V8's own threshold for a collection.
    for (let i = 0; i < 32; i++) Buffer.allocUnsafe(256 * 1024).fill(i);
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    collect();
    // V8 may free them on a thread of its own, just after the collection.
    for (let wait = 0; wait < 100 && process.memoryUsage().arrayBuffers - before >= 4 * 1024 * 1024; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
  });

  it("leaves gc unexposed to the program and to contexts made later", () => {
    youngCollector()();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext("typeof gc")).toBe("undefined");
  });
});
