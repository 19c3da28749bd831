import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * The per-block SHA-512 of +PKG_HASH for an inner package that lies in a file (a shared
 * module: the file I/O stays out of src/package, which gets it through the chunk stream that
 * fileChunks makes, see RangeHashingSource): hashing threads open the file themselves and
 * read and hash batches of whole blocks, each taking the next batch that nobody took yet (a
 * shared counter), so no byte is copied from the main thread to a worker and the main
 * thread is free to walk the inner archive meanwhile. Once its walk is done, the main thread
 * takes batches too (outcome()): on two cores the walk ends well before the hashing, and a
 * core would otherwise idle. Same digests as BlockHasher: the SHA-512 of each `blockSize`
 * bytes from `start`, the last block possibly short.
 *
 * Memory is bounded: each thread holds one batch buffer and the digests of its batches.
 * The threads are made before the range is known, and hash while the signature is checked.
 */

/**
 * Bytes a thread reads and hashes at a time: a whole number of blocks. Each thread's batch
 * buffer counts in the peak RSS; 1 MiB batches are as fast as 2 MiB ones (paired runs).
 */
export const RANGE_BATCH_BYTES = 1024 * 1024;

// Evaluated source (CommonJS) so that it runs the same from TypeScript sources, the build and the single file.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
parentPort.once("message", ({ path, start, size, blockSize, batchBytes, next }) => {
  let fd;
  try {
    fd = openSync(path, "r");
    const buffer = Buffer.allocUnsafeSlow(batchBytes);
    const batches = Math.ceil(size / batchBytes);
    for (let batch = Atomics.add(next, 0, 1); batch < batches; batch = Atomics.add(next, 0, 1)) {
      const offset = batch * batchBytes;
      const want = Math.min(batchBytes, size - offset);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buffer, got, want - got, start + offset + got);
        if (n === 0) break;
        got += n;
      }
      // Only whole blocks that the file holds (a file cut short ends in a partial block, not hashed).
      const digests = [];
      for (let at = 0; at < got; at += blockSize) {
        const end = Math.min(at + blockSize, want);
        if (end > got) break;
        digests.push(createHash("sha512").update(buffer.subarray(at, end)).digest("hex"));
      }
      parentPort.postMessage({ batch, digests });
    }
    parentPort.postMessage({ done: true });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

export interface RangeHashResult {
  /** Blocks hashed from the start of the range on, without a gap (fewer than all when the file is shorter). */
  readonly blocks: number;
  /** The first of those whose digest differs from the expected one. */
  readonly firstMismatch?: number;
}

/** One range being hashed: what every thread needs, and the digests counted so far. */
interface Job {
  readonly path: string;
  readonly start: number;
  readonly size: number;
  readonly blockSize: number;
  readonly batchBytes: number;
  readonly batches: number;
  /** The next batch nobody took yet, shared with the threads. */
  readonly next: Int32Array;
  /** Counts a batch's digests (from a thread or from this one). */
  readonly record: (batch: number, digests: readonly string[]) => void;
  /** Settles once every thread has run out of batches; rejects if one failed. */
  readonly threads: Promise<void>;
  /** Set once a thread failed or the hasher closed: this thread takes no further batch. */
  stopped: boolean;
  readonly result: () => RangeHashResult;
}

/** Hashing threads for one file range; `start()` gives them the range once it is known. */
export class RangeHasher {
  private readonly workers: Worker[];
  private job: Job | undefined;

  /**
   * One thread per core but one: this thread walks (inflates) the inner package meanwhile
   * and then hashes with them; each further thread costs ~10 MiB.
   */
  constructor(threads = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    // Small heaps: a worker holds one batch (outside the heap) and a few digests at a time.
    this.workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } }));
    // A worker that is never given work must not keep the process alive.
    for (const worker of this.workers) worker.unref();
  }

  /**
   * Starts hashing `size` bytes of `path` from byte `start` in `blockSize` blocks, each digest
   * compared with `expected` as it comes and then dropped (memory stays bounded for any size).
   */
  start(path: string, start: number, size: number, blockSize: number, expected: readonly string[]): void {
    const batchBytes = Math.max(1, Math.floor(RANGE_BATCH_BYTES / blockSize)) * blockSize;
    const batchBlocks = batchBytes / blockSize;
    const batches = Math.ceil(size / batchBytes);
    const next = new Int32Array(new SharedArrayBuffer(4));
    /** Digests received per batch (-1: none yet). */
    const received = new Int32Array(batches).fill(-1);
    let firstMismatch: number | undefined;
    const record = (batch: number, digests: readonly string[]) => {
      received[batch] = digests.length;
      digests.forEach((hex, i) => {
        const index = batch * batchBlocks + i;
        if (hex !== expected[index] && (firstMismatch === undefined || index < firstMismatch)) firstMismatch = index;
      });
    };
    const threads = Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.ref();
            worker.on("message", (message: { batch?: number; digests?: string[]; done?: true; error?: string }) => {
              if (message.error !== undefined) reject(new Error(message.error));
              else if (message.done) resolve();
              else record(message.batch as number, message.digests ?? []);
            });
            worker.on("error", reject);
            worker.on("exit", () => reject(new Error("a hashing thread stopped")));
            worker.postMessage({ path, start, size, blockSize, batchBytes, next });
          }),
      ),
    ).then(() => undefined);
    threads.catch(() => {
      job.stopped = true;
    });
    const result = () => {
      let blocks = 0;
      for (const count of received) {
        if (count < 0) break;
        blocks += count;
        // A short batch means the file ended there: nothing after it counts.
        if (count < batchBlocks) break;
      }
      return { blocks, ...(firstMismatch !== undefined && firstMismatch < blocks ? { firstMismatch } : {}) };
    };
    const job: Job = { path, start, size, blockSize, batchBytes, batches, next, record, threads, result, stopped: false };
    this.job = job;
  }

  /**
   * How far the range was hashed and its first mismatch, once every batch is hashed; this
   * thread hashes the batches still untaken meanwhile. Rejects if a thread failed (the file
   * could not be read).
   */
  async outcome(): Promise<RangeHashResult> {
    const job = this.job;
    if (!job) throw new Error("RangeHasher: not started");
    await Promise.all([hashUntaken(job), job.threads]);
    return job.result();
  }

  async close(): Promise<void> {
    if (this.job) this.job.stopped = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** This thread's share: batches that no hashing thread has taken yet, as the threads hash them. */
async function hashUntaken(job: Job): Promise<void> {
  let handle: FileHandle | undefined;
  let buffer: Buffer | undefined;
  try {
    for (let batch = Atomics.add(job.next, 0, 1); batch < job.batches && !job.stopped; batch = Atomics.add(job.next, 0, 1)) {
      handle ??= await open(job.path, "r");
      buffer ??= Buffer.allocUnsafeSlow(job.batchBytes);
      const offset = batch * job.batchBytes;
      const want = Math.min(job.batchBytes, job.size - offset);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, job.start + offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const digests: string[] = [];
      // Only whole blocks that the file holds, as the threads do.
      for (let at = 0; at < got; at += job.blockSize) {
        const end = Math.min(at + job.blockSize, want);
        if (end > got) break;
        digests.push(createHash("sha512").update(buffer.subarray(at, end)).digest("hex"));
      }
      job.record(batch, digests);
    }
  } finally {
    await handle?.close();
  }
}

/** What verifyPackage asks of a chunk stream that is a whole file: threads that hash a range of it. */
export interface RangeHashing {
  /** Starts hashing `size` bytes from byte `start` (of the stream, which is the file's), as RangeHasher.start does. */
  start(start: number, size: number, blockSize: number, expected: readonly string[]): void;
  outcome(): Promise<RangeHashResult>;
  close(): Promise<void>;
}

/** Marks a chunk stream that is a whole file from its first byte (fileChunks makes them). */
export const RANGE_HASHING = Symbol("pkgtrust.range-hashing");

export interface RangeHashingSource {
  /** Starts the hashing threads (they boot until start() gives them the range). */
  readonly [RANGE_HASHING]: () => RangeHashing;
}

/** Hashing threads over the file at `path`. */
export function rangeHashing(path: string): RangeHashing {
  const hasher = new RangeHasher();
  return {
    start: (start, size, blockSize, expected) => hasher.start(path, start, size, blockSize, expected),
    outcome: () => hasher.outcome(),
    close: () => hasher.close(),
  };
}

/** The range hashing a chunk stream offers, if it is a file's (fileChunks). */
export function rangeHashingOf(input: AsyncIterable<Uint8Array>): (() => RangeHashing) | undefined {
  const make = (input as Partial<RangeHashingSource>)[RANGE_HASHING];
  return typeof make === "function" ? make : undefined;
}
