import { constants, realpathSync, type Stats } from "node:fs";
import { lstat, open, readdir, readlink, realpath, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { InputFileError, MAX_INPUT_BYTES } from "../input-file.js";
import { ConfigError } from "./errors.js";

const MAX_LINKS = 32;

/**
 * The system pkgtrust configures: "/" for the running system, or a target mounted at
 * `--root DIR` (as sysinst does). Paths given by the user and written into config files
 * are the target's; only this object maps them to host paths.
 */
export class TargetRoot {
  readonly dir: string;

  constructor(dir: string) {
    // The root's own real path (a --root that is itself a symlink, as a mount point may be), so
    // that the links inside it are judged against where they really lead.
    const resolved = path.resolve(dir);
    try {
      this.dir = realpathSync(resolved);
    } catch {
      this.dir = resolved;
    }
  }

  /** The host path of a target path, without following symlinks. */
  hostPath(targetPath: string): string {
    if (!path.posix.isAbsolute(targetPath)) {
      throw new ConfigError("CONFIG_NOT_ABSOLUTE", `${targetPath} is not an absolute path`, { detail: { path: targetPath } });
    }
    return path.join(this.dir, path.posix.normalize(targetPath));
  }

  /** The target path of a host path inside the root. */
  targetPathOf(hostPath: string): string {
    return `/${path.relative(this.dir, hostPath).split(path.sep).join("/")}`;
  }

  /** True when a host path lies inside the root (the root itself included). */
  contains(hostPath: string): boolean {
    const relative = path.relative(this.dir, hostPath);
    return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
  }

  /**
   * The host path a write to `targetPath` must go to: symlinks are followed as the host
   * kernel would follow them, and refused when they lead outside the root, so that
   * configuring /targetroot can never modify the installer's own files.
   */
  async writablePath(targetPath: string): Promise<string> {
    const { hostPath, stats } = await this.resolve(targetPath);
    if (stats !== undefined && !stats.isFile()) throw new ConfigError("CONFIG_NOT_A_FILE", `${targetPath} is not a regular file`, { detail: { path: targetPath } });
    return hostPath;
  }

  /**
   * The bytes of the file at `targetPath`, or undefined when there is none: read through the
   * same resolution as a write, so that a symlink (of the file or of a directory above it)
   * leading out of the root can never make a host file the anchor, the state or a backup
   * (issue 11: the foreign anchor). O_NOFOLLOW keeps a link swapped in after the check from
   * being followed; O_NONBLOCK keeps a FIFO planted there from hanging the run. Capped as
   * every file pkgtrust reads whole.
   */
  async readIfExists(targetPath: string): Promise<Buffer | undefined> {
    const { hostPath, stats } = await this.resolve(targetPath);
    if (stats === undefined) return undefined;
    if (!stats.isFile()) throw new ConfigError("CONFIG_NOT_A_FILE", `${targetPath} is not a regular file`, { detail: { path: targetPath } });
    let handle: FileHandle;
    try {
      handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw readError(targetPath, error);
    }
    try {
      const opened = await handle.stat();
      if (!opened.isFile()) throw new ConfigError("CONFIG_NOT_A_FILE", `${targetPath} is not a regular file`, { detail: { path: targetPath } });
      if (opened.size > MAX_INPUT_BYTES) {
        throw new InputFileError("INPUT_TOO_LARGE", `${targetPath} is ${opened.size} bytes, more than ${MAX_INPUT_BYTES}`, { detail: { file: targetPath, limit: MAX_INPUT_BYTES } });
      }
      return await handle.readFile();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof InputFileError) throw error;
      throw readError(targetPath, error);
    } finally {
      await handle.close();
    }
  }

  /** Whether something exists at `targetPath` inside the root; a path leading outside counts as absent. */
  async exists(targetPath: string): Promise<boolean> {
    return this.resolve(targetPath).then(
      ({ stats }) => stats !== undefined,
      () => false,
    );
  }

  /** The names in the directory at `targetPath`; none when it is missing, not a directory, or outside the root. */
  async list(targetPath: string): Promise<string[]> {
    const resolved = await this.resolve(targetPath).catch(() => undefined);
    if (!resolved?.stats?.isDirectory()) return [];
    return readdir(resolved.hostPath).catch(() => []);
  }

  /**
   * The host path of `targetPath` with every symlink followed as the host kernel would, and
   * what is there (undefined: nothing). A link leading outside the root is refused
   * (CONFIG_SYMLINK_OUTSIDE_ROOT), read or write alike.
   */
  async resolve(targetPath: string): Promise<{ readonly hostPath: string; readonly stats: Stats | undefined }> {
    let current = this.hostPath(targetPath);
    for (let hops = 0; hops < MAX_LINKS; hops++) {
      const parent = await this.realParent(current, targetPath);
      current = path.join(parent, path.basename(current));
      const stats = await lstat(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw new ConfigError("CONFIG_READ", `cannot inspect ${targetPath}: ${error.message}`, { cause: error });
      });
      if (stats === undefined || !stats.isSymbolicLink()) return { hostPath: current, stats };
      const link = await readlink(current);
      const next = path.resolve(path.dirname(current), link);
      if (!this.contains(next)) {
        throw new ConfigError("CONFIG_SYMLINK_OUTSIDE_ROOT", `${targetPath} is a symlink to ${link}, outside the target root ${this.dir}`, {
          detail: { path: targetPath, link },
        });
      }
      current = next;
    }
    throw new ConfigError("CONFIG_SYMLINK_LOOP", `too many symlinks while resolving ${targetPath}`, { detail: { path: targetPath } });
  }

  /** The real path of the deepest existing ancestor joined with the rest; refused outside the root. */
  private async realParent(hostPath: string, targetPath: string): Promise<string> {
    const missing: string[] = [];
    let dir = path.dirname(hostPath);
    for (;;) {
      try {
        const real = await realpath(dir);
        if (!this.contains(real)) {
          throw new ConfigError("CONFIG_SYMLINK_OUTSIDE_ROOT", `a directory of ${targetPath} is a symlink leading outside the target root ${this.dir}`, {
            detail: { path: targetPath },
          });
        }
        return path.join(real, ...missing.reverse());
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        if (dir === this.dir || dir === path.dirname(dir)) {
          throw new ConfigError("CONFIG_ROOT_MISSING", `the target root ${this.dir} does not exist`, { detail: { root: this.dir } });
        }
        missing.push(path.basename(dir));
        dir = path.dirname(dir);
      }
    }
  }
}

function readError(targetPath: string, error: unknown): InstanceType<typeof ConfigError> {
  // ELOOP: O_NOFOLLOW met a symlink put there after the path was resolved.
  return new ConfigError("CONFIG_READ", `cannot read ${targetPath}: ${(error as Error).message}`, { cause: error, detail: { path: targetPath } });
}
