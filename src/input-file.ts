import { open, stat, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { DEFAULT_LIMITS } from "./limits.js";
import { EXIT, errorClass, type ErrorOptions, type PkgtrustError } from "./errors.js";

/**
 * Files named on the command line (certificates, keys, CRLs, bundles, anchors, answer files,
 * catalogues) are read whole, so they are capped as downloads are (endless data): a key
 * bundle is at most 1 MiB when fetched, and no PEM file pkgtrust reads comes near 16 MiB.
 * Packages are streamed and not capped.
 */
export const MAX_INPUT_BYTES = DEFAULT_LIMITS.inputFileBytes;

export const InputFileError = errorClass("InputFileError", {
  INPUT_UNREADABLE: { exit: EXIT.INPUT, next: "Check the file's path and permissions." },
  INPUT_TOO_LARGE: { exit: EXIT.INPUT, next: "pkgtrust reads certificate, key, CRL and bundle files up to 16 MiB: check that the path names the right file." },
});

/** Builds the coded error of the caller's area from the message and the options (the cause, and `detail.file`). */
export type Unreadable = (message: string, options: ErrorOptions) => PkgtrustError;

function refuse(path: string, reason: string, unreadable: Unreadable, cause?: unknown): PkgtrustError {
  return unreadable(`cannot read ${path}: ${reason}`, { ...(cause === undefined ? {} : { cause }), detail: { file: path } });
}

const reasonOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Checks that a path named on the command line is a file that can be read (not a directory),
 * relative to the working directory, and returns its host path: the checks every reader
 * of a named file makes, streamed packages included.
 */
export async function requireInputFile(path: string, cwd: string, unreadable: Unreadable): Promise<string> {
  const full = resolve(cwd, path);
  const stats = await stat(full).catch((error: unknown) => {
    throw refuse(path, reasonOf(error), unreadable, error);
  });
  if (stats.isDirectory()) throw refuse(path, "it is a directory, not a file", unreadable);
  return full;
}

async function readCapped(handle: FileHandle, path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // A pipe or device has no size to check first: read at most one byte past the limit.
  for (;;) {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > maxBytes) break;
    chunks.push(buffer.subarray(0, bytesRead));
  }
  throw new InputFileError("INPUT_TOO_LARGE", `${path} is larger than ${maxBytes} bytes`, { detail: { file: path, limit: maxBytes } });
}

/** Reads a file named on the command line, refused unread when it is a directory or larger than the limit. */
export async function readInputBytes(path: string, cwd: string, unreadable: Unreadable): Promise<Buffer> {
  const full = await requireInputFile(path, cwd, unreadable);
  let handle: FileHandle;
  try {
    handle = await open(full, "r");
  } catch (error) {
    throw refuse(path, reasonOf(error), unreadable, error);
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_INPUT_BYTES) throw new InputFileError("INPUT_TOO_LARGE", `${path} is ${size} bytes, more than ${MAX_INPUT_BYTES}`, { detail: { file: path, limit: MAX_INPUT_BYTES } });
    return await readCapped(handle, path, MAX_INPUT_BYTES);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw refuse(path, reasonOf(error), unreadable, error);
  } finally {
    await handle.close();
  }
}

/** readInputBytes as UTF-8 text. */
export async function readInputText(path: string, cwd: string, unreadable: Unreadable): Promise<string> {
  return (await readInputBytes(path, cwd, unreadable)).toString("utf8");
}
