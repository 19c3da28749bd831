import { constants } from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";

/**
 * The new version of one package, written beside it and renamed over it: a crash at any
 * moment leaves the old or the new complete file (rename(2) is atomic, and the data is
 * fsync'd before the rename). The temporary name is derived from the package's, so a
 * rerun knows which leftovers are its own: `.NAME.pkgtrust-repo-sign`.
 */

export const TEMP_SUFFIX = ".pkgtrust-repo-sign";

export function temporaryName(name: string): string {
  return `.${name}${TEMP_SUFFIX}`;
}

/** The package a temporary file of ours stands for, or undefined for any other name. */
export function temporaryTarget(name: string): string | undefined {
  return name.startsWith(".") && name.endsWith(TEMP_SUFFIX) && name.length > TEMP_SUFFIX.length + 1 ? name.slice(1, -TEMP_SUFFIX.length) : undefined;
}

export interface Ownership {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface Replaced {
  readonly size: number;
  /** Hex digests of the whole new file, by node:crypto algorithm (for pkg_summary FILE_CKSUM). */
  readonly digests: Readonly<Record<string, string>>;
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class Replacement {
  private size = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly temporary: string,
    private readonly target: string,
    private readonly hashes: ReadonlyMap<string, Hash>,
  ) {}

  /** Creates the temporary file (O_EXCL|O_NOFOLLOW: never through a planted link); a stale one of ours is replaced. */
  static async create(dir: string, name: string, algorithms: readonly string[]): Promise<Replacement> {
    const temporary = path.join(dir, temporaryName(name));
    let handle: FileHandle;
    try {
      handle = await open(temporary, CREATE, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // Left by a run that was killed: it is ours (we hold the lock), and incomplete.
      await rm(temporary, { force: true });
      handle = await open(temporary, CREATE, 0o600);
    }
    const hashes = new Map(algorithms.map((algorithm) => [algorithm, createHash(algorithm)]));
    return new Replacement(handle, temporary, path.join(dir, name), hashes);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset, null);
      offset += bytesWritten;
    }
    for (const hash of this.hashes.values()) hash.update(bytes);
    this.size += bytes.length;
  }

  /** The old file's mode and owner, fsync, then the rename over the package. */
  async commit(owner: Ownership): Promise<Replaced> {
    await this.handle.chmod(owner.mode & 0o7777);
    await this.handle.chown(owner.uid, owner.gid).catch((error: NodeJS.ErrnoException) => {
      // Not root: the file stays the runner's, which may differ from the old owner.
      if (error.code !== "EPERM") throw error;
    });
    await this.handle.sync();
    await this.close();
    await rename(this.temporary, this.target);
    return { size: this.size, digests: Object.fromEntries([...this.hashes].map(([name, hash]) => [name, hash.digest("hex")])) };
  }

  /** Removes the temporary file; the package stays as it was. */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.temporary, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** fsync of a directory, so that its renames survive a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
