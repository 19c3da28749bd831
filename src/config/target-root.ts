import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
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
    this.dir = path.resolve(dir);
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
    let current = this.hostPath(targetPath);
    for (let hops = 0; hops < MAX_LINKS; hops++) {
      const parent = await this.realParent(current, targetPath);
      current = path.join(parent, path.basename(current));
      const stats = await lstat(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw new ConfigError("CONFIG_READ", `cannot inspect ${targetPath}: ${error.message}`, { cause: error });
      });
      if (stats === undefined) return current;
      if (!stats.isSymbolicLink()) {
        if (!stats.isFile()) throw new ConfigError("CONFIG_NOT_A_FILE", `${targetPath} is not a regular file`, { detail: { path: targetPath } });
        return current;
      }
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
