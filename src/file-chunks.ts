import { open, type FileHandle } from "node:fs/promises";
import { InputFileError, type Unreadable } from "./input-file.js";
import { RANGE_HASHING, rangeHashing, type RangeHashingSource } from "./range-hasher.js";

/** A file that cannot be opened, when the caller names no error of its own area. */
const inputUnreadable: Unreadable = (message, options) => new InputFileError("INPUT_UNREADABLE", message, options);

/**
 * Reads a file as a chunk stream for verifyPackage (the I/O stays out of src/package), cycling
 * through a few fixed buffers instead of allocating one per read: freed read buffers only return to the system when
 * V8 collects them, which would otherwise add tens of MiB to the peak RSS of a big package.
 * ByteReader copies what it keeps and uses a chunk only until it asks for the next one;
 * with one read ahead in flight, `ring` >= 2 buffers are safe to reuse (each is 1 MiB of
 * verify-package's peak RSS).
 */
export function fileChunks(path: string, chunkSize = 1024 * 1024, ring = 2, unreadable: Unreadable = inputUnreadable): AsyncGenerator<Uint8Array> & RangeHashingSource {
  // verifyPackage's hashing threads may read the file themselves (src/range-hasher.ts).
  return Object.assign(readFile(path, chunkSize, ring, unreadable), { [RANGE_HASHING]: () => rangeHashing(path) });
}

async function* readFile(path: string, chunkSize: number, ring: number, unreadable: Unreadable): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw unreadable(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error, detail: { file: path } });
  }
  try {
    yield* handleChunks(handle, 0, chunkSize, ring);
  } finally {
    await handle.close();
  }
}

/**
 * The same from an open file, from byte `start` on, with positioned reads (the handle's offset
 * is not used). `ring`: how many buffers to cycle through, or the buffers themselves (each at
 * least `chunkSize`, lent by a caller that reuses them from file to file: the read ahead is
 * awaited before the generator finishes, so none is written to once it returns).
 */
export async function* handleChunks(handle: FileHandle, start = 0, chunkSize = 1024 * 1024, ring: number | readonly Buffer[] = 3): AsyncGenerator<Uint8Array> {
  const buffers = typeof ring === "number" ? Array.from({ length: ring }, () => Buffer.allocUnsafeSlow(chunkSize)) : ring;
  let position = start;
  const read = (i: number) => {
    const pending = handle.read(buffers[i % buffers.length] as Buffer, 0, chunkSize, position).then(({ bytesRead, buffer }) => buffer.subarray(0, bytesRead));
    // A read ahead that the caller stops before awaiting must not fail unhandled.
    pending.catch(() => undefined);
    return pending;
  };
  // One read ahead, so that the disk works while the caller hashes.
  let next = read(0);
  try {
    for (let i = 1; ; i++) {
      const chunk = await next;
      if (chunk.length === 0) return;
      position += chunk.length;
      next = read(i);
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
  }
}
