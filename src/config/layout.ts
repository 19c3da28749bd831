import path from "node:path";
import type { TargetRoot } from "./target-root.js";

/** Where release engineering installs the base-system anchor (docs/releng.md). */
export const DEFAULT_ANCHOR = "/usr/share/certs/pkgsrc/pkgsrc-ca.pem";
export const BASE_CONFIG = "/etc/pkg_install.conf";
export const PKGSRC_CONFIG = "/usr/pkg/etc/pkg_install.conf";
export const PKGIN_REPOSITORIES = "/usr/pkg/etc/pkgin/repositories.conf";
const PKGIN_BINARY = "/usr/pkg/bin/pkgin";
const BASE_PKG_ADD = "/usr/sbin/pkg_add";
const PKGSRC_PKG_ADD = "/usr/pkg/sbin/pkg_add";

/**
 * The pkg_install.conf that the pkg_install in use reads: pkgsrc's own
 * (/usr/pkg/etc) when only pkgsrc's pkg_add is installed, else the base system's /etc.
 */
export async function defaultConfigPath(root: TargetRoot): Promise<string> {
  if (!(await root.exists(BASE_PKG_ADD)) && (await root.exists(PKGSRC_PKG_ADD))) return PKGSRC_CONFIG;
  return BASE_CONFIG;
}

/** pkgin counts as present when its binary or its repositories.conf is. */
export async function pkginPresent(root: TargetRoot): Promise<boolean> {
  return (await root.exists(PKGIN_BINARY)) || (await root.exists(PKGIN_REPOSITORIES));
}

/** The pkg_add to run for a real test-install, if the target has one. */
export async function findPkgAdd(root: TargetRoot): Promise<string | undefined> {
  for (const candidate of [PKGSRC_PKG_ADD, BASE_PKG_ADD]) if (await root.exists(candidate)) return candidate;
  return undefined;
}

/** pkgtrust's own files, beside the pkg_install.conf it manages (target paths). */
export interface StateLayout {
  readonly dir: string;
  readonly state: string;
  readonly lock: string;
  /** The undo journal of a run writing the files (transaction.ts); gone once the run committed. */
  readonly journal: string;
  /** The per-repository trust files written into pkg_install.conf. */
  repository(id: string): { readonly dir: string; readonly anchors: string; readonly chain: string };
}

export function stateLayout(configPath: string): StateLayout {
  const dir = path.posix.join(path.posix.dirname(configPath), "pkgtrust");
  return {
    dir,
    state: path.posix.join(dir, "state.json"),
    lock: path.posix.join(dir, ".lock"),
    journal: path.posix.join(dir, "journal.json"),
    repository: (id) => {
      const repoDir = path.posix.join(dir, "repositories", id);
      return { dir: repoDir, anchors: path.posix.join(repoDir, "anchors.pem"), chain: path.posix.join(repoDir, "chain.pem") };
    },
  };
}
