/**
 * Instances of one WebAssembly decoder module (src/package/bzip2.ts, xz.ts, zstd.ts): compiled once,
 * and the instance of the last decoder that finished cleanly kept for the next, so that a
 * run over many packages does not grow a new instance's memory each time. An instance whose
 * decoder failed or was stopped midway is dropped, and so is one whose memory grew past
 * KEEP_MEMORY for a large window: WebAssembly memory never shrinks.
 */
const KEEP_MEMORY = 16 * 1024 * 1024;

export class WasmInstances<Exports extends { readonly memory: WebAssembly.Memory }> {
  private compiled: WebAssembly.Module | undefined;
  private idle: Exports | undefined;

  constructor(private readonly base64: string) {}

  take(): Exports {
    const reused = this.idle;
    this.idle = undefined;
    if (reused) return reused;
    this.compiled ??= new WebAssembly.Module(Buffer.from(this.base64, "base64"));
    return new WebAssembly.Instance(this.compiled).exports as unknown as Exports;
  }

  giveBack(exports: Exports): void {
    if (exports.memory.buffer.byteLength <= KEEP_MEMORY) this.idle = exports;
  }
}
