/** The decoder core of unbzip2-stream (lib/), which compression.ts drives itself. */
declare module "unbzip2-stream/lib/bzip2.js" {
  type Bits = ((n: number | null) => number) & { bytesRead: number };
  const bzip2: {
    /** Reads the stream header; returns the block size digit 1-9. */
    header(bits: Bits): number;
    /** Decodes one block into `output`, one byte per call; the stream CRC so far, or null at the end of the stream. */
    decompress(bits: Bits, output: (byte: number) => void, buf: Int32Array, bufsize: number, streamCRC: number | null): number | null;
  };
  export default bzip2;
}

declare module "unbzip2-stream/lib/bit_iterator.js" {
  export default function bitIterator(nextBuffer: () => Uint8Array | undefined): ((n: number | null) => number) & { bytesRead: number };
}
