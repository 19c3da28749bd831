import { createHash, type Hash } from "node:crypto";

/**
 * SHA-512 of consecutive fixed-size blocks of a byte stream, computed as the bytes flow
 * (pkg_install's +PKG_HASH lines). The last block may be short; a stream whose size is an
 * exact multiple of the block size ends with a full block (pkg_install's own code gets
 * that case wrong, see domain.md section 1).
 */
export class BlockHasher {
  private hash: Hash | undefined;
  private filled = 0;
  private index = 0;
  /** Bytes seen so far. */
  total = 0;

  /** `onBlock` gets each block's index and lowercase hex digest; it may throw to stop. */
  constructor(
    private readonly blockSize: number,
    private readonly onBlock: (index: number, hex: string) => void,
  ) {}

  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.blockSize - this.filled, chunk.length - offset);
      this.hash ??= createHash("sha512");
      this.hash.update(chunk.subarray(offset, offset + take));
      this.filled += take;
      this.total += take;
      offset += take;
      if (this.filled === this.blockSize) this.flush();
    }
  }

  /** Hashes the final short block, if any; returns the number of blocks. */
  finish(): number {
    if (this.filled > 0) this.flush();
    return this.index;
  }

  private flush(): void {
    const hex = (this.hash ?? createHash("sha512")).digest("hex");
    this.hash = undefined;
    this.filled = 0;
    this.onBlock(this.index++, hex);
  }
}
