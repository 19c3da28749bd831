import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * The per-block SHA-512 of BlockHasher spread over threads: blocks are independent, so
 * batches of whole blocks go in turn to worker threads; the main thread hashes nothing (it
 * reads the download and walks the inner archive meanwhile: paired runs of a 256 MiB
 * download were faster so than with the main thread taking one batch in two). One worker
 * per extra core (each costs ~9 MiB), and memory stays bounded: `2 × workers` batch
 * buffers, handed back and forth.
 *
 * A BlockHashPool can also be shared by many hashers (repo sign hashes several packages
 * at once): the threads start once.
 */

/** Below this size the workers' start-up costs more than they save. */
export const PARALLEL_MIN_SIZE = 8 * 1024 * 1024;
export const BATCH_BYTES = 1024 * 1024;

/** Whether to hash on threads: a big package whose blocks fit a batch (+PKG_HASH may declare any block size). */
export function hashInParallel(blockSize: number, fileSize: number): boolean {
  return fileSize >= PARALLEL_MIN_SIZE && blockSize <= BATCH_BYTES;
}

// Evaluated source (CommonJS) so that it runs the same from TypeScript sources and the build.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
parentPort.on("message", ({ id, buffer, length, blockSize }) => {
  const bytes = new Uint8Array(buffer, 0, length);
  const digests = [];
  for (let offset = 0; offset < length; offset += blockSize) {
    digests.push(createHash("sha512").update(bytes.subarray(offset, Math.min(offset + blockSize, length))).digest("hex"));
  }
  parentPort.postMessage({ id, digests, buffer }, [buffer]);
});
`;

interface PoolJob {
  resolve(result: { digests: string[]; buffer: ArrayBuffer }): void;
  reject(error: unknown): void;
  readonly worker: Worker;
}

/** Hashing threads, started once; each job goes to the least busy one. */
export class BlockHashPool {
  private readonly workers: Worker[];
  private readonly busy = new Map<Worker, number>();
  private readonly jobs = new Map<number, PoolJob>();
  private nextId = 0;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      // Small heaps: a worker holds one batch and a few digests at a time.
      const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
      worker.on("message", ({ id, digests, buffer }: { id: number; digests: string[]; buffer: ArrayBuffer }) => {
        const job = this.jobs.get(id);
        if (!job) return;
        this.jobs.delete(id);
        this.busy.set(worker, (this.busy.get(worker) ?? 1) - 1);
        job.resolve({ digests, buffer });
      });
      worker.on("error", (error) => {
        for (const [id, job] of this.jobs) {
          if (job.worker !== worker) continue;
          this.jobs.delete(id);
          job.reject(error);
        }
      });
      this.busy.set(worker, 0);
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** The SHA-512 of each `blockSize` block of `buffer`'s first `length` bytes; the buffer is transferred and handed back. */
  hash(buffer: ArrayBuffer, length: number, blockSize: number): Promise<{ digests: string[]; buffer: ArrayBuffer }> {
    const worker = this.workers.reduce((a, b) => ((this.busy.get(b) ?? 0) < (this.busy.get(a) ?? 0) ? b : a));
    const id = this.nextId++;
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject, worker });
      worker.postMessage({ id, buffer, length, blockSize }, [buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export class ParallelBlockHasher {
  private readonly pool: BlockHashPool;
  private readonly ownsPool: boolean;
  private readonly batchBlocks: number;
  private readonly inFlight: Promise<void>[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private batch: Uint8Array;
  private filled = 0;
  private nextBlock = 0;
  private failure: unknown;
  total = 0;

  /** With `shared`, batches go to that pool only and the pool outlives the hasher; `size`, when known, keeps a small input's batch small. */
  constructor(
    private readonly blockSize: number,
    private readonly onBlock: (index: number, hex: string) => void,
    shared?: BlockHashPool,
    size = Number.POSITIVE_INFINITY,
  ) {
    this.ownsPool = shared === undefined;
    this.pool = shared ?? new BlockHashPool(Math.max(1, Math.min(2, availableParallelism()) - 1));
    this.batchBlocks = Math.max(1, Math.min(Math.floor(BATCH_BYTES / blockSize), Math.ceil(size / blockSize)));
    this.batch = new Uint8Array(this.batchBlocks * blockSize);
  }

  private report(first: number, digests: readonly string[]): void {
    digests.forEach((hex, i) => this.onBlock(first + i, hex));
  }

  private async dispatch(): Promise<void> {
    if (this.filled === 0) return;
    const first = this.nextBlock;
    this.nextBlock += Math.ceil(this.filled / this.blockSize);
    const done = this.pool.hash(this.batch.buffer as ArrayBuffer, this.filled, this.blockSize).then(({ digests, buffer }) => {
      this.spare.push(buffer);
      this.report(first, digests);
    });
    done.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.push(done);
    this.filled = 0;
    // Bounded memory: once every buffer is out, wait for the oldest batch to come back.
    if (this.inFlight.length >= 2 * this.pool.size) await this.inFlight.shift();
    this.batch = new Uint8Array(this.spare.pop() ?? new ArrayBuffer(this.batchBlocks * this.blockSize));
  }

  async update(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.batch.length - this.filled, chunk.length - offset);
      this.batch.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      this.total += take;
      offset += take;
      if (this.filled === this.batch.length) await this.dispatch();
    }
  }

  /** Hashes what is left (the last block may be short) and waits for every block's check. */
  async finish(): Promise<number> {
    try {
      await this.dispatch();
      await Promise.all(this.inFlight);
      return this.nextBlock;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    // Batches still out belong to a failed hash: let them settle so that no worker writes to a dead hasher.
    await Promise.allSettled(this.inFlight);
    if (this.ownsPool) await this.pool.close();
  }
}
