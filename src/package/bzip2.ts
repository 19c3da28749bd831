import { BZIP2_WASM } from "./bzip2-wasm.js";
import { WasmInstances } from "./wasm-instances.js";

/**
 * bzip2 as libarchive's bzip2 filter reads it for pkg_install, with libbzip2 itself
 * (compiled to WebAssembly, scripts/build-wasm.mjs) making the same calls:
 * - output leaves in 64 KiB blocks, each filled across BZ2_bzDecompress calls and across
 *   concatenated streams; a damaged or cut-short stream fails the block being filled, so
 *   its partial output is never seen (bzip2_filter_read returns ARCHIVE_FATAL);
 * - after a stream's end, the next 14 bytes must bid as a new stream ("BZh", a block size
 *   digit, a block or end-of-stream magic); anything else, or fewer bytes, ends the data
 *   quietly (bzip2_reader_bid);
 * - input that ends inside a stream is an error ("truncated bzip2 input").
 */

/** bzlib.h's return codes. */
const BZ_OK = 0;
const BZ_STREAM_END = 4;
const FAILURES: Readonly<Record<number, string>> = {
  [-3]: "libbzip2 ran out of memory",
  [-4]: "the bzip2 data is damaged",
  [-5]: "the data is not bzip2",
};

/** glue.c's input and output buffers. */
const BLOCK = 65536;
/** libarchive's bid reads this much: "BZh", the digit, and a 6-byte magic, with room for the minimal stream. */
const BID_BYTES = 14;
const BLOCK_MAGIC = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const END_MAGIC = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

interface Bzip2Exports {
  readonly memory: WebAssembly.Memory;
  bz_input(): number;
  bz_output(): number;
  bz_start(): number;
  bz_feed(length: number): void;
  bz_step(): number;
  bz_input_left(): number;
  bz_output_length(): number;
  bz_output_taken(): void;
  bz_finish(): void;
}

/** A stream grows an instance's memory by about 4 MB. */
const instances = new WasmInstances<Bzip2Exports>(BZIP2_WASM);

/** bzip2_reader_bid: whether `head` (BID_BYTES long) starts a bzip2 stream. */
function bidsAsStream(head: Uint8Array): boolean {
  const magicAt = (magic: number[]) => magic.every((byte, i) => head[4 + i] === byte);
  const digit = head[3] ?? 0;
  return head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && digit >= 0x31 && digit <= 0x39 && (magicAt(BLOCK_MAGIC) || magicAt(END_MAGIC));
}

/** A push decoder: `write` and `end` call `emit` with each full output block, synchronously, and throw on bad data. */
export class Bzip2Decoder {
  private readonly wasm: Bzip2Exports;
  private state: "bid" | "stream" | "ended" = "bid";
  /** Bytes held until BID_BYTES are there to bid on. */
  private held: Buffer = Buffer.alloc(0);
  private streams = 0;

  constructor(private readonly emit: (data: Buffer) => void) {
    this.wasm = instances.take();
    this.wasm.bz_output_taken();
  }

  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.state !== "ended") {
      const rest = chunk.subarray(at);
      at += this.state === "bid" ? this.bid(rest) : this.decode(rest.subarray(0, BLOCK));
    }
  }

  end(): void {
    if (this.state === "stream") throw new Error("the bzip2 stream is cut short");
    if (this.state === "bid") this.endOfData();
  }

  /** Takes bytes towards the next bid; returns how many. */
  private bid(data: Uint8Array): number {
    const taken = Math.min(data.length, BID_BYTES - this.held.length);
    this.held = Buffer.concat([this.held, data.subarray(0, taken)]);
    if (this.held.length === BID_BYTES) {
      const head = this.held;
      this.held = Buffer.alloc(0);
      if (!bidsAsStream(head)) this.endOfData();
      else {
        if (this.wasm.bz_start() !== BZ_OK) throw new Error("libbzip2 cannot start a stream");
        this.state = "stream";
        this.write(head);
      }
    }
    return taken;
  }

  /** Decodes up to BLOCK bytes of a stream; returns how many it used (fewer where the stream ends). */
  private decode(data: Uint8Array): number {
    const wasm = this.wasm;
    new Uint8Array(wasm.memory.buffer, wasm.bz_input(), data.length).set(data);
    wasm.bz_feed(data.length);
    for (;;) {
      const [left, length] = [wasm.bz_input_left(), wasm.bz_output_length()];
      const status = this.step();
      if (status !== BZ_OK && status !== BZ_STREAM_END) throw new Error(FAILURES[status] ?? `libbzip2 failed (${status})`);
      // libbzip2 returns BZ_OK only once the input is used up or the block is full: never spin.
      const stalled = wasm.bz_input_left() === left && wasm.bz_output_length() === length;
      if (wasm.bz_output_length() === BLOCK) this.flush();
      if (status === BZ_STREAM_END) {
        wasm.bz_finish();
        this.state = "bid";
        this.streams++;
        return data.length - wasm.bz_input_left();
      }
      if (wasm.bz_input_left() === 0) return data.length;
      if (stalled) throw new Error("libbzip2 made no progress");
    }
  }

  private step(): number {
    try {
      return this.wasm.bz_step();
    } catch (error) {
      // bz_internal_error traps: one of libbzip2's own assertions failed on this data.
      throw new Error("libbzip2 stopped on an internal error", { cause: error });
    }
  }

  private flush(): void {
    const wasm = this.wasm;
    const length = wasm.bz_output_length();
    wasm.bz_output_taken();
    if (length > 0) this.emit(Buffer.from(new Uint8Array(wasm.memory.buffer, wasm.bz_output(), length)));
  }

  /** The data ends here: the block filled so far goes out, and later bytes are ignored. */
  private endOfData(): void {
    if (this.streams === 0) throw new Error("the data is not bzip2");
    this.state = "ended";
    this.flush();
    instances.giveBack(this.wasm);
  }
}
