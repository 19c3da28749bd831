import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ErrorOptions, PkgtrustError } from "./errors.js";

/**
 * Reads a file the user named on the command line, relative to the working directory.
 * `unreadable` builds the coded error of the caller's area from the message and the
 * options (the cause, and `detail.file`).
 */
export async function readInputText(path: string, cwd: string, unreadable: (message: string, options: ErrorOptions) => PkgtrustError): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw unreadable(`cannot read ${path}: ${reason}`, { cause: error, detail: { file: path } });
  }
}
