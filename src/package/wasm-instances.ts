/**
 * Instances of one WebAssembly decoder module (src/package/bzip2.ts, zstd.ts): compiled once,
 * and the instance of the last decoder that finished cleanly kept for the next, so that a
 * run over many packages does not grow a new instance's memory each time. An instance whose
 * decoder failed or was stopped midway is dropped.
 */
export class WasmInstances<Exports> {
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
    this.idle = exports;
  }
}
