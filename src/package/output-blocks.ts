/**
 * Decompressed output handed on as libarchive's decompression filters hand it to the tar
 * reader: in 64 KiB blocks (each filter's out_block), a block only once it is full or the
 * data has ended cleanly. A stream that fails loses the block being filled: the filter's read
 * returns ARCHIVE_FATAL instead of it, so a tar whose end-of-archive block lies there is
 * refused, not read to its end.
 */
export class OutputBlocks {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly push: (data: Buffer) => void,
    private readonly block = 64 * 1024,
  ) {}

  /** Takes output; hands on what completes blocks. Returns whether anything was handed on. */
  add(data: Buffer): boolean {
    this.pending.push(data);
    this.pendingBytes += data.length;
    let release = this.pendingBytes - (this.pendingBytes % this.block);
    if (release === 0) return false;
    this.pendingBytes -= release;
    while (release > 0) {
      const head = this.pending[0] as Buffer;
      if (head.length <= release) {
        this.push(head);
        this.pending.shift();
        release -= head.length;
      } else {
        this.push(head.subarray(0, release));
        this.pending[0] = head.subarray(release);
        release = 0;
      }
    }
    return true;
  }

  /** The data ended cleanly: the block filled so far goes out. */
  end(): void {
    for (const data of this.pending) this.push(data);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
