/**
 * Gathers small chunks of a stream (a download: undici hands a body out 64 KiB at a time)
 * into batches of `size` bytes in one buffer that is refilled for the next batch, so that the
 * per-chunk work of verifying (a zlib round trip and a copy for the archive walk, a batch for
 * the hashing threads) happens once per batch. Chunks of `direct` bytes or more (a file's
 * read chunks) pass as they are, after what was gathered before them. Nothing is read beyond
 * what the source gives before it ends: a batch is cut short at its end. The consumer must be
 * done with a batch when it asks for the next (ByteReader's rule for its sources).
 */
export async function* gatherSmallChunks(source: AsyncIterable<Uint8Array>, size: number, direct: number): AsyncGenerator<Uint8Array, void, undefined> {
  let buffer: Buffer | undefined;
  let filled = 0;
  for await (const chunk of source) {
    if (chunk.length >= direct) {
      if (filled > 0 && buffer) yield buffer.subarray(0, filled);
      filled = 0;
      yield chunk;
      continue;
    }
    buffer ??= Buffer.allocUnsafeSlow(size);
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(size - filled, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        filled = 0;
        yield buffer;
      }
    }
  }
  if (filled > 0 && buffer) yield buffer.subarray(0, filled);
}
