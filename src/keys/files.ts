import { access, open, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { OperatorError } from "./operator-errors.js";
import { readInputText, type Unreadable } from "../input-file.js";

/** Private keys are readable by their owner only; certificates and CRLs are public. */
export const KEY_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

export function readInput(path: string, cwd: string, code: "KEYS_INPUT_UNREADABLE" | "BUNDLE_INPUT_UNREADABLE" = "KEYS_INPUT_UNREADABLE"): Promise<string> {
  return readInputText(path, cwd, (message, options) => new OperatorError(code, message, options));
}

/** The failure of an input of bundle build, bundle lint or repo sign's --anchor that cannot be read (src/trust's readers take it). */
export const bundleInputUnreadable: Unreadable = (message, options) => new OperatorError("BUNDLE_INPUT_UNREADABLE", message, options);

/** An input that may not exist yet (the CRL keys revoke extends): undefined when it does not. */
export async function readIfPresent(path: string, cwd: string): Promise<string | undefined> {
  const found = await access(resolve(cwd, path)).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== "ENOENT",
  );
  return found ? readInput(path, cwd) : undefined;
}

function exists(path: string): OperatorError {
  return new OperatorError("KEYS_OUTPUT_EXISTS", `${path} already exists; refusing to overwrite it`, { detail: { file: path } });
}

/** Fails before any key is generated when an output is already there. */
export async function requireAbsent(paths: readonly string[], cwd: string): Promise<void> {
  for (const path of paths) {
    const found = await access(resolve(cwd, path)).then(
      () => true,
      () => false,
    );
    if (found) throw exists(path);
  }
}

/**
 * Creates a new file with its final mode from the start: O_EXCL ('wx') so that an existing
 * file, or a symlink planted at the path, is never written through; the mode is given to
 * open() so a key is never readable by others, not even for a moment.
 */
export async function writeNewFile(path: string, cwd: string, text: string, mode: number): Promise<void> {
  const full = resolve(cwd, path);
  let handle;
  try {
    handle = await open(full, "wx", mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw exists(path);
    throw new OperatorError("KEYS_WRITE_FAILED", `cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error, detail: { file: path } });
  }
  try {
    // The umask may have narrowed the mode; certificates must stay world-readable.
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(full, { force: true });
    throw new OperatorError("KEYS_WRITE_FAILED", `cannot write ${path}: ${(error as Error).message}`, { cause: error, detail: { file: path } });
  }
  await handle.close();
}

/** Writes a private key then its certificate; a certificate that cannot be written takes its new key with it. */
export async function writeKeyPair(paths: { cert: string; key: string }, cwd: string, pems: { certificatePem: string; privateKeyPem: string }): Promise<void> {
  await writeNewFile(paths.key, cwd, pems.privateKeyPem, KEY_MODE);
  try {
    await writeNewFile(paths.cert, cwd, pems.certificatePem, PUBLIC_MODE);
  } catch (error) {
    await rm(resolve(cwd, paths.key), { force: true });
    throw error;
  }
}
