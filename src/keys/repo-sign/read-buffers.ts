/**
 * Read buffers that a repo sign thread reuses from package to package. A ring of new ones per
 * package (a few MiB each for a thousand packages a second) made V8 run a full mark-compact
 * about every 100 ms per thread: their backing stores count against the heap's limit, and
 * only a major collection frees them (2,000 packages: 220 of them, about a sixth of the CPU).
 */

/** The largest read (file-chunks.ts reads a package in chunks of at most this). */
export const READ_CHUNK = 1024 * 1024;
/** Buffers per package: one being used, one read ahead, one spare (handleChunks' default ring). */
const RING = 3;

export class ReadBuffers {
  private readonly free: (readonly Buffer[])[] = [];

  /** A ring for one package, for as long as it is read. */
  take(): readonly Buffer[] {
    return this.free.pop() ?? Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(READ_CHUNK));
  }

  /** Back once nothing reads into it any more (handleChunks awaits its read ahead before it returns). */
  give(ring: readonly Buffer[]): void {
    this.free.push(ring);
  }
}
