import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { handleChunks } from "../src/file-chunks.js";

describe("reading a file in chunks into lent buffers", () => {
  const dir = mkdtempSync(join(tmpdir(), "file-chunks-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = randomBytes(10 * 4096 + 123);
  const file = join(dir, "data");
  writeFileSync(file, data);

  it("reads every byte through the lent ring, in order", async () => {
    const handle = await open(file, "r");
    try {
      const ring = [Buffer.alloc(8192), Buffer.alloc(8192), Buffer.alloc(8192)];
      const parts: Buffer[] = [];
      for await (const chunk of handleChunks(handle, 0, 4096, ring)) {
        expect(ring.some((buffer) => buffer.buffer === chunk.buffer)).toBe(true);
        parts.push(Buffer.from(chunk));
      }
      expect(Buffer.concat(parts).equals(data)).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it("writes nothing into the ring once a reader that stopped early has its return (the read ahead is awaited)", async () => {
    // A disk that answers after 20 ms (a page-cache read would land before the test could look).
    const slow = {
      read: async (buffer: Buffer, offset: number, length: number, position: number) => {
        await sleep(20);
        const bytesRead = data.copy(buffer, offset, position, position + length);
        return { bytesRead, buffer };
      },
    } as unknown as FileHandle;
    const ring = [Buffer.alloc(4096), Buffer.alloc(4096)];
    for await (const chunk of handleChunks(slow, 0, 4096, ring)) {
      expect(Buffer.from(chunk).equals(data.subarray(0, 4096))).toBe(true);
      break;
    }
    // The next user of the ring fills it; a read still in flight would overwrite that.
    for (const buffer of ring) buffer.fill(0xee);
    await sleep(50);
    expect(ring.every((buffer) => buffer.every((byte) => byte === 0xee))).toBe(true);
  });
});
