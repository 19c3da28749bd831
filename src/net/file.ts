import { open, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { PkgtrustError } from "../errors.js";
import { meteredBody, tooLargeError, type FetchProgress } from "./body.js";
import { FetchError, displayUrl } from "./errors.js";

/** Reads a file: URL (offline installs from media) with the same caps and progress as a download. */
export async function openFile(
  url: URL,
  options: { maxBytes: number; onProgress?: (p: FetchProgress) => void },
): Promise<{ body: AsyncIterable<Uint8Array>; size: number; finalUrl: URL }> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new FetchError("FETCH_BAD_URL", `${displayUrl(url)}: not a local file URL`, { cause: error, detail: { url: url.href } });
  }
  // stat before open: opening a FIFO would block until something writes to it.
  const before = await stat(path).catch((error: unknown) => Promise.reject(fileError(error, url, path)));
  if (!before.isFile()) throw new FetchError("FETCH_FILE_NOT_FOUND", `${path} is not a regular file`, { detail: { url: url.href } });
  const handle = await open(path, "r").catch((error: unknown) => Promise.reject(fileError(error, url, path)));
  const size = (await handle.stat()).size;
  if (size > options.maxBytes) {
    await handle.close();
    throw tooLargeError(url, size, options.maxBytes);
  }
  const stream = handle.createReadStream({ autoClose: true });
  const body = meteredBody(stream, {
    url,
    maxBytes: options.maxBytes,
    total: size,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    classify: (error) => fileError(error, url, path),
  });
  return { body, size, finalUrl: url };
}

function fileError(error: unknown, url: URL, path: string): PkgtrustError {
  const code = (error as { code?: unknown }).code;
  const options = { cause: error, detail: { url: url.href, cause: typeof code === "string" ? code : null } };
  if (code === "ENOENT" || code === "ENOTDIR") return new FetchError("FETCH_FILE_NOT_FOUND", `${path}: no such file`, options);
  return new FetchError("FETCH_FILE_UNREADABLE", `${path}: cannot be read (${typeof code === "string" ? code : "error"})`, options);
}
