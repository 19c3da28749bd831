import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * The per-block SHA-512 of BlockHasher spread over threads: blocks are independent, so
 * batches of whole blocks go in turn to worker threads and to the main thread, which
 * hashes its share between reads. One worker per extra core (each costs ~9 MiB), and
 * memory stays bounded: `2 × workers` batch buffers, handed back and forth.
 */

/** Below this size the workers' start-up costs more than they save. */
export const PARALLEL_MIN_SIZE = 8 * 1024 * 1024;
const BATCH_BYTES = 1024 * 1024;

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

interface Pending {
  readonly first: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class ParallelBlockHasher {
  private readonly workers: Worker[];
  private readonly batchBlocks: number;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight: Promise<void>[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private batch: Uint8Array;
  private filled = 0;
  private nextBlock = 0;
  private nextId = 0;
  private failure: unknown;
  total = 0;

  constructor(
    private readonly blockSize: number,
    private readonly onBlock: (index: number, hex: string) => void,
    workers = Math.min(2, availableParallelism()) - 1,
  ) {
    this.batchBlocks = Math.max(1, Math.floor(BATCH_BYTES / blockSize));
    this.batch = new Uint8Array(this.batchBlocks * blockSize);
    this.workers = Array.from({ length: workers }, () => {
      // Small heaps: a worker holds one batch and a few digests at a time.
      const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
      worker.on("message", (message: { id: number; digests: string[]; buffer: ArrayBuffer }) => this.receive(message));
      worker.on("error", (error) => this.fail(error));
      return worker;
    });
  }

  private receive({ id, digests, buffer }: { id: number; digests: string[]; buffer: ArrayBuffer }): void {
    this.spare.push(buffer);
    const job = this.pending.get(id);
    if (!job) return;
    this.pending.delete(id);
    try {
      digests.forEach((hex, i) => this.onBlock(job.first + i, hex));
      job.resolve();
    } catch (error) {
      job.reject(error);
    }
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }

  private async dispatch(): Promise<void> {
    if (this.filled === 0) return;
    const id = this.nextId++;
    const first = this.nextBlock;
    this.nextBlock += Math.ceil(this.filled / this.blockSize);
    const worker = this.workers[id % (this.workers.length + 1)];
    if (!worker) {
      // The main thread's turn: hash in place and keep the buffer.
      for (let offset = 0, i = first; offset < this.filled; offset += this.blockSize, i++) {
        this.onBlock(i, createHash("sha512").update(this.batch.subarray(offset, Math.min(offset + this.blockSize, this.filled))).digest("hex"));
      }
      this.filled = 0;
      return;
    }
    const buffer = this.batch.buffer as ArrayBuffer;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { first, resolve, reject }));
    done.catch(() => undefined);
    worker.postMessage({ id, buffer, length: this.filled, blockSize: this.blockSize }, [buffer]);
    this.inFlight.push(done);
    this.filled = 0;
    // Bounded memory: once every buffer is out, wait for the oldest batch to come back.
    if (this.inFlight.length >= 2 * this.workers.length) await this.inFlight.shift();
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
