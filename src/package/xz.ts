import { WasmInstances } from "./wasm-instances.js";
import { XZ_WASM } from "./xz-wasm.js";

/**
 * xz (and LZMA-alone) as libarchive's xz and lzma filters read them for pkg_install
 * (xz_filter_read), with liblzma itself (compiled to WebAssembly, scripts/build-wasm.mjs)
 * making the same calls:
 * - lzma_stream_decoder with no memory limit and LZMA_CONCATENATED: every filter and
 *   integrity check liblzma decodes (BCJ, delta; CRC32, CRC64, SHA-256, all verified),
 *   concatenated streams and stream padding in multiples of four bytes; for LZMA-alone,
 *   lzma_alone_decoder, whose stream ends at its end marker or stated size (what follows is
 *   never read);
 * - output leaves in 64 KiB blocks, each filled across lzma_code calls; an error fails the
 *   block being filled, so its partial output is never seen;
 * - once the input has ended, lzma_code runs with LZMA_FINISH until the stream ends: input
 *   cut short or padding of the wrong length is an error there.
 */

/** lzma.h's lzma_ret values that liblzma returns here, and what each error means. */
const LZMA_OK = 0;
const LZMA_STREAM_END = 1;
const FAILURES: Readonly<Record<number, string>> = {
  5: "liblzma cannot allocate memory",
  6: "liblzma's memory limit was reached",
  7: "the data is not xz",
  8: "the xz stream has options liblzma does not support",
  9: "the xz data is damaged",
  10: "the xz data is cut short",
};

const failure = (status: number) => new Error(FAILURES[status] ?? `liblzma failed (${status})`);

/** glue.c's input and output buffers. */
const BLOCK = 65536;

interface XzExports {
  readonly memory: WebAssembly.Memory;
  xz_input(): number;
  xz_output(): number;
  xz_start(alone: number): number;
  xz_feed(length: number): void;
  xz_step(finish: number): number;
  xz_input_left(): number;
  xz_output_length(): number;
  xz_output_taken(): void;
  xz_finish(): void;
}

const instances = new WasmInstances<XzExports>(XZ_WASM);

/** A push decoder: `write` and `end` call `emit` with each full output block, synchronously, and throw on bad data. */
export class XzDecoder {
  private readonly wasm: XzExports;
  /** LZMA_STREAM_END came (libarchive's eof): no more input is read. */
  private ended = false;

  constructor(
    private readonly emit: (data: Buffer) => void,
    format: "xz" | "lzma" = "xz",
  ) {
    this.wasm = instances.take();
    const status = this.wasm.xz_start(format === "lzma" ? 1 : 0);
    if (status !== LZMA_OK) throw failure(status);
  }

  write(chunk: Uint8Array): void {
    const wasm = this.wasm;
    for (let at = 0; at < chunk.length && !this.ended; at += BLOCK) {
      const data = chunk.subarray(at, at + BLOCK);
      new Uint8Array(wasm.memory.buffer, wasm.xz_input(), data.length).set(data);
      wasm.xz_feed(data.length);
      // liblzma fails a second call in a row that makes no progress (LZMA_BUF_ERROR): this loop cannot spin.
      while (wasm.xz_input_left() > 0 && !this.ended) this.step(false);
    }
  }

  end(): void {
    this.wasm.xz_feed(0);
    while (!this.ended) this.step(true);
    this.flush();
    this.wasm.xz_finish();
    instances.giveBack(this.wasm);
  }

  private step(finish: boolean): void {
    const status = this.wasm.xz_step(finish ? 1 : 0);
    if (status !== LZMA_OK && status !== LZMA_STREAM_END) throw failure(status);
    if (this.wasm.xz_output_length() === BLOCK) this.flush();
    this.ended = status === LZMA_STREAM_END;
  }

  private flush(): void {
    const wasm = this.wasm;
    const length = wasm.xz_output_length();
    wasm.xz_output_taken();
    if (length > 0) this.emit(Buffer.from(new Uint8Array(wasm.memory.buffer, wasm.xz_output(), length)));
  }
}
