import { spawn } from "node:child_process";
import { gunzip, gzip } from "node:zlib";
import { promisify } from "node:util";
import { RepoSignError } from "./errors.js";

/**
 * The one place that compresses and decompresses pkg_summary: gzip with node:zlib, bzip2
 * and xz with the system's `bzip2` and `xz` (in NetBSD's base system, and what pkg_info -X
 * users pipe into). No npm package compresses both bzip2 and xz without a native addon
 * (lzma-native, @napi-rs/lzma, node-liblzma) or an unmaintained pure-JS port (compressjs,
 * 2016), and neither kind can live in the single-file dist build; a summary is a few
 * files per run, so a process each costs nothing.
 */

export type Compression = "gzip" | "bzip2" | "xz";

/** The pkg_summary variants a repository may carry, in the order they are rewritten. */
export const SUMMARY_FILES: readonly { readonly name: string; readonly compression: Compression }[] = [
  { name: "pkg_summary.gz", compression: "gzip" },
  { name: "pkg_summary.bz2", compression: "bzip2" },
  { name: "pkg_summary.xz", compression: "xz" },
];

const TOOLS: Record<Exclude<Compression, "gzip">, { command: string; compress: string[]; decompress: string[] }> = {
  bzip2: { command: "bzip2", compress: ["-9", "-c"], decompress: ["-d", "-c"] },
  xz: { command: "xz", compress: ["-c"], decompress: ["-d", "-c"] },
};

/** Runs a filter command over `input`; stops it once it has written more than `max` bytes. */
function filter(command: string, args: readonly string[], input: Uint8Array, max: number, source: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let size = 0;
    let errors = "";
    let failed = false;
    const fail = (error: RepoSignError) => {
      if (failed) return;
      failed = true;
      child.kill("SIGKILL");
      reject(error);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") fail(new RepoSignError("REPO_TOOL_MISSING", `${source} needs the '${command}' command, which is not installed`, { cause: error, detail: { command } }));
      else fail(new RepoSignError("REPO_SUMMARY_UNREADABLE", `cannot run ${command} for ${source}: ${error.message}`, { cause: error }));
    });
    child.stdout.on("data", (data: Buffer) => {
      size += data.length;
      if (size > max) fail(new RepoSignError("REPO_SUMMARY_UNREADABLE", `${source} unpacks to more than ${max} bytes`, { detail: { file: source } }));
      else out.push(data);
    });
    child.stderr.on("data", (data: Buffer) => (errors += data.toString()));
    child.stdin.on("error", () => undefined);
    child.on("close", (status) => {
      if (failed) return;
      if (status === 0) resolve(Buffer.concat(out));
      else fail(new RepoSignError("REPO_SUMMARY_UNREADABLE", `${command} failed on ${source}: ${errors.trim().split("\n")[0] ?? `status ${status}`}`, { detail: { file: source } }));
    });
    child.stdin.end(input);
  });
}

export async function decompress(compression: Compression, bytes: Uint8Array, max: number, source: string): Promise<Buffer> {
  if (compression === "gzip") {
    try {
      return await promisify(gunzip)(bytes, { maxOutputLength: max });
    } catch (error) {
      throw new RepoSignError("REPO_SUMMARY_UNREADABLE", `${source} cannot be unpacked: ${(error as Error).message}`, { cause: error, detail: { file: source } });
    }
  }
  const tool = TOOLS[compression];
  return filter(tool.command, tool.decompress, bytes, max, source);
}

export async function compress(compression: Compression, bytes: Uint8Array, source: string): Promise<Buffer> {
  if (compression === "gzip") return promisify(gzip)(bytes, { level: 9 });
  const tool = TOOLS[compression];
  return filter(tool.command, tool.compress, bytes, Number.MAX_SAFE_INTEGER, source);
}
