import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { EXIT, errorClass } from "./errors.js";

/** A file a command is told to write (sign-package OUT, bundle build --out, keys --out-*, --crl). */
export const OutputFileError = errorClass("OutputFileError", {
  OUTPUT_IS_DIRECTORY: { exit: EXIT.USAGE, next: "Name the file to write, not a directory (e.g. DIR/name.tgz)." },
  OUTPUT_DIR_UNUSABLE: { exit: EXIT.USAGE, next: "Create the output directory first, or name a file in a directory you can write to." },
});

/**
 * Refuses an output path before any work is done: one that is a directory (or anything
 * but a regular file), or whose directory is missing or not writable. Returns the host path.
 */
export async function requireOutputFile(path: string, cwd: string): Promise<string> {
  const full = resolve(cwd, path);
  const existing = await stat(full).catch(() => undefined);
  if (existing && !existing.isFile()) {
    throw new OutputFileError("OUTPUT_IS_DIRECTORY", `${path} is ${existing.isDirectory() ? "a directory" : "not a regular file"}; name the file to write`, { detail: { file: path } });
  }
  const dir = dirname(full);
  const parent = await stat(dir).catch(() => undefined);
  if (!parent?.isDirectory()) throw new OutputFileError("OUTPUT_DIR_UNUSABLE", `cannot write ${path}: the directory ${dirname(path)} does not exist`, { detail: { file: path } });
  await access(dir, constants.W_OK | constants.X_OK).catch((error: NodeJS.ErrnoException) => {
    throw new OutputFileError("OUTPUT_DIR_UNUSABLE", `cannot write ${path}: the directory ${dirname(path)} is not writable (${error.code ?? error.message})`, { cause: error, detail: { file: path } });
  });
  return full;
}
