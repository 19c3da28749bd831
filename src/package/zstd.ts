import { WasmInstances } from "./wasm-instances.js";
import { ZSTD_WASM } from "./zstd-wasm.js";

/**
 * zstd as libarchive's zstd filter reads it for pkg_install (zstd_filter_read), with libzstd
 * itself (compiled to WebAssembly, scripts/build-wasm.mjs) making the same calls:
 * - output leaves in blocks of ZSTD_DStreamOutSize() (128 KiB), each filled across
 *   ZSTD_decompressStream calls and across frames; an error fails the block being filled, so
 *   its partial output is never seen;
 * - ZSTD_initDStream starts each frame, so whatever follows a frame must be another frame (or
 *   a skippable one): trailing bytes, zero padding included, are an error, as are a wrong
 *   checksum and a window beyond libzstd's default limit (128 MiB);
 * - input that ends inside a frame is an error ("Truncated zstd input"), even where only
 *   decoded output was still to be handed on.
 */

interface ZstdExports {
  readonly memory: WebAssembly.Memory;
  zs_input(): number;
  zs_output(): number;
  zs_block(): number;
  zs_create(): number;
  zs_init(): number;
  zs_feed(length: number): void;
  zs_step(): number;
  zs_is_error(result: number): number;
  zs_error_name(result: number): number;
  zs_input_left(): number;
  zs_output_length(): number;
  zs_output_taken(): void;
}

/** glue.c's input buffer. */
const INPUT = 65536;

const instances = new WasmInstances<ZstdExports>(ZSTD_WASM);

/** A push decoder: `write` and `end` call `emit` with each full output block, synchronously, and throw on bad data. */
export class ZstdDecoder {
  private readonly wasm: ZstdExports;
  private readonly block: number;
  private inFrame = false;

  constructor(private readonly emit: (data: Buffer) => void) {
    this.wasm = instances.take();
    if (!this.wasm.zs_create()) throw new Error("libzstd ran out of memory");
    this.wasm.zs_output_taken();
    this.block = this.wasm.zs_block();
  }

  write(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.length; at += INPUT) this.decode(chunk.subarray(at, at + INPUT));
  }

  end(): void {
    if (this.inFrame) throw new Error("the zstd data is cut short inside a frame");
    this.flush();
    instances.giveBack(this.wasm);
  }

  private decode(data: Uint8Array): void {
    const wasm = this.wasm;
    new Uint8Array(wasm.memory.buffer, wasm.zs_input(), data.length).set(data);
    wasm.zs_feed(data.length);
    while (wasm.zs_input_left() > 0) {
      if (!this.inFrame) this.check(wasm.zs_init());
      // libzstd itself fails a call that makes no progress several times in a row
      // (ZSTD_error_noForwardProgress_*): this loop cannot spin.
      const result = this.check(wasm.zs_step());
      this.inFrame = result !== 0;
      if (wasm.zs_output_length() === this.block) this.flush();
    }
  }

  private check(result: number): number {
    const wasm = this.wasm;
    if (!wasm.zs_is_error(result)) return result;
    const name = new Uint8Array(wasm.memory.buffer, wasm.zs_error_name(result));
    throw new Error(`libzstd: ${Buffer.from(name.subarray(0, name.indexOf(0))).toString("latin1")}`);
  }

  private flush(): void {
    const wasm = this.wasm;
    const length = wasm.zs_output_length();
    wasm.zs_output_taken();
    if (length > 0) this.emit(Buffer.from(new Uint8Array(wasm.memory.buffer, wasm.zs_output(), length)));
  }
}
