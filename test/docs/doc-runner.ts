import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { shellBlocks } from "./doc-blocks.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = path.join(REPO_ROOT, "bin/pkgtrust.mjs");

/** Writes `sh` scripts, the shebang added. */
async function script(file: string, body: string): Promise<void> {
  await writeFile(file, `#!/bin/sh\n${body}`);
  await chmod(file, 0o755);
}

/**
 * Stand-ins for the NetBSD tools the documents show (pkg_add, pkg_admin, pkg_info, make,
 * chroot, pkgin): each appends its name and arguments to $STUB_LOG, one call a line, and
 * succeeds. `pkg_info -X FILE...` also prints the summary lines setup reads (PKGNAME,
 * FILE_NAME, FILE_SIZE), as the real one does for package files, so that a repository
 * published the documented way can be set up against.
 */
const STUBS: Record<string, string> = {
  pkg_add: "",
  pkg_admin: "",
  make: "",
  chroot: "",
  pkgin: "",
  pkg_info: `if [ "$1" = "-X" ]; then
  shift
  for f; do
    [ -f "$f" ] || continue
    b=$(basename "$f")
    printf 'PKGNAME=%s\\nCOMMENT=stub summary\\nFILE_NAME=%s\\nFILE_SIZE=%s\\n\\n' "\${b%.tgz}" "$b" "$(wc -c < "$f" | tr -d ' ')"
  done
fi
`,
};

export interface DocumentRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The stubs' calls, "name arg arg ..." per call. */
  readonly calls: string[];
  /** How many `sh` blocks ran. */
  readonly blocks: number;
}

/**
 * Runs every `sh` block of a document, in order, in one bash session (set -eu, pipefail)
 * in `dir`, with `pkgtrust` (the built binary) and the stubs first on PATH. A failing
 * command stops the run and names its block's line. Async: a loopback server may run in
 * this process.
 */
export async function runDocument(doc: string, dir: string, env: Record<string, string> = {}): Promise<DocumentRun> {
  const blocks = shellBlocks(path.join(REPO_ROOT, doc));
  const bin = path.join(dir, ".doc-bin");
  await mkdir(bin, { recursive: true });
  await script(path.join(bin, "pkgtrust"), `exec "${process.execPath}" "${BIN}" "$@"\n`);
  for (const [name, body] of Object.entries(STUBS)) {
    await script(path.join(bin, name), `{ printf '%s' "${name}"; for a; do printf ' %s' "$a"; done; echo; } >> "$STUB_LOG"\n${body}exit 0\n`);
  }
  const log = path.join(dir, ".doc-calls");
  await writeFile(log, "");
  const parts = ["set -eu -o pipefail", `trap 'echo "${doc} block at line $DOC_LINE failed with status $?" >&2' ERR`];
  for (const block of blocks) parts.push(`DOC_LINE=${block.line}`, block.code);
  await writeFile(path.join(dir, ".doc-script.sh"), `${parts.join("\n")}\n`);
  const result = await promisify(execFile)("bash", [path.join(dir, ".doc-script.sh")], {
    cwd: dir,
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: dir, LC_ALL: "C", STUB_LOG: log, ...env },
    maxBuffer: 32 * 1024 * 1024,
    timeout: 240_000,
  }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ status: typeof error.code === "number" ? error.code : -1, stdout: error.stdout ?? "", stderr: error.stderr ?? "" }),
  );
  const calls = (await readFile(log, "utf8")).split("\n").filter((line) => line !== "");
  return { ...result, calls, blocks: blocks.length };
}
