/**
 * What the WebAssembly decoders' tests share (bzip2.test.ts, xz.test.ts, zstd.test.ts): each
 * decoder is a push decoder that calls `emit` with its output blocks and throws on bad data.
 */
import fc from "fast-check";
import { expect } from "vitest";

export interface PushDecoder {
  write(chunk: Uint8Array): void;
  end(): void;
}

export type MakeDecoder = (emit: (data: Buffer) => void) => PushDecoder;

/** Text-like data that compresses into several blocks of each format. */
export const TEXT = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} of a packing list ${i % 7}\n`).join(""));

export function pushDecoding(make: MakeDecoder) {
  /** Decodes `input` fed in `chunk`-byte writes; the output blocks as emitted, or the error thrown. */
  const decode = (input: Uint8Array, chunk = 65536): { blocks: Buffer[]; error?: Error } => {
    const blocks: Buffer[] = [];
    const decoder = make((data) => blocks.push(data));
    try {
      for (let at = 0; at < input.length; at += chunk) decoder.write(input.subarray(at, at + chunk));
      decoder.end();
      return { blocks };
    } catch (error) {
      return { blocks, error: error as Error };
    }
  };
  const decodeOk = (input: Uint8Array, chunk?: number): Buffer => {
    const { blocks, error } = decode(input, chunk);
    if (error) throw error;
    return Buffer.concat(blocks);
  };
  return {
    decode,
    decodeOk,
    /** `compressed` decodes to `data` whatever the write sizes, in full `block`-byte blocks (libarchive's out_block), only the last shorter. */
    roundTrips(compressed: Buffer, data: Buffer, block: number): void {
      for (const chunk of [1, 13, 4096, 65536, compressed.length]) {
        if (chunk === 1 && compressed.length > 20_000) continue;
        const { blocks, error } = decode(compressed, chunk);
        expect(error).toBeUndefined();
        expect(Buffer.concat(blocks).equals(data)).toBe(true);
        expect(blocks.slice(0, -1).every((out) => out.length === block)).toBe(true);
      }
    },
    /** Every single flipped bit of `compressed` fails, or decodes to `data` (a bit the format ignores). */
    flipsFailOrDecode(compressed: Buffer, data: Buffer): void {
      fc.assert(
        fc.property(fc.nat(compressed.length - 1), fc.nat(7), (at, bit) => {
          const damaged = Buffer.from(compressed);
          damaged[at] = (damaged[at] ?? 0) ^ (1 << bit);
          const { blocks, error } = decode(damaged, 4096);
          if (!error) expect(Buffer.concat(blocks).equals(data)).toBe(true);
        }),
        { numRuns: 200 },
      );
    },
    /** Decoders started while another is left midway (its instance not given back) give exact output. */
    abandonedLeavesOthersExact(compressed: Buffer, data: Buffer): void {
      make(() => undefined).write(compressed.subarray(0, 30_000));
      for (let i = 0; i < 3; i++) expect(decodeOk(compressed, 30_000).equals(data)).toBe(true);
    },
  };
}
