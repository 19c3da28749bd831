import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { fetchBytes, fetchStream, urlExists, type FetchOptions, type FetchProgress } from "../../src/net/fetch.js";

let dir: string;
let dispatcher: Dispatcher;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pkgtrust-file-"));
  await mkdir(join(dir, "All"));
  await writeFile(join(dir, "All/pkg_keys.pem"), "bundle bytes\n");
  await writeFile(join(dir, "All/big.tgz"), Buffer.alloc(200_000, 1));
  dispatcher = createDispatcher({ env: {} });
});

afterAll(async () => {
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

const options = (more: Partial<FetchOptions> = {}): FetchOptions => ({ dispatcher, maxBytes: 1 << 20, ...more });
const file = (path: string) => pathToFileURL(join(dir, path));

describe("file: URLs (offline installs from media)", () => {
  it("closes the file after probing it, without waiting for garbage collection", async () => {
    const open = async () => (await readdir("/proc/self/fd")).length;
    const before = await open();
    for (let i = 0; i < 20; i++) expect(await urlExists(file("All/big.tgz"), options())).toBe(true);
    expect(await open()).toBeLessThan(before + 5);
  });

  it("reads a file with progress", async () => {
    const events: FetchProgress[] = [];
    const { bytes, finalUrl } = await fetchBytes(file("All/big.tgz"), options({ onProgress: (p) => events.push(p) }));
    expect(bytes.byteLength).toBe(200_000);
    expect(finalUrl.href).toBe(file("All/big.tgz").href);
    expect(events.at(-1)).toEqual({ url: file("All/big.tgz").href, received: 200_000, total: 200_000 });
  });

  it("streams with the size known", async () => {
    const opened = await fetchStream(file("All/pkg_keys.pem"), options());
    expect(opened.size).toBe(13);
  });

  it("reports a missing file with its own code", async () => {
    await expect(fetchBytes(file("All/missing.pem"), options())).rejects.toThrowWithCode("FETCH_FILE_NOT_FOUND");
    await expect(fetchBytes(file("All/pkg_keys.pem/x"), options())).rejects.toThrowWithCode("FETCH_FILE_NOT_FOUND");
    expect(await urlExists(file("All/missing.pem"), options())).toBe(false);
  });

  it("refuses a directory", async () => {
    await expect(fetchBytes(file("All"), options())).rejects.toThrowWithCode("FETCH_FILE_NOT_FOUND");
  });

  it("applies the size cap", async () => {
    await expect(fetchBytes(file("All/big.tgz"), options({ maxBytes: 100_000 }))).rejects.toThrowWithCode("FETCH_TOO_LARGE");
  });

  it.skipIf(process.getuid?.() === 0)("reports a file it may not read", async () => {
    await writeFile(join(dir, "secret.pem"), "x");
    await chmod(join(dir, "secret.pem"), 0);
    await expect(fetchBytes(file("secret.pem"), options())).rejects.toThrowWithCode("FETCH_FILE_UNREADABLE");
  });

  it("refuses a file URL naming another host", async () => {
    await expect(fetchBytes(new URL("file://server.example/pkg_keys.pem"), options())).rejects.toThrowWithCode("FETCH_BAD_URL");
  });
});
