import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { fetchBytes, fetchStream, urlExists, type FetchOptions, type FetchProgress } from "../../src/net/fetch.js";
import { faults, startRepoServer, writeRepoTree, type RepoServer } from "../fixtures/repo-server.js";

const MiB = 1024 * 1024;
let root: string;
let server: RepoServer;
let dispatcher: Dispatcher;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pkgtrust-fetch-"));
  await writeRepoTree(root, { packages: [{ pkgname: "digest-20220214", bytes: Buffer.alloc(300_000, 7) }], keys: "bundle bytes\n" });
  server = await startRepoServer({ root });
  dispatcher = createDispatcher({ env: {}, ca: server.caPem, timeouts: { connectMs: 1000, headersMs: 400, bodyMs: 400 } });
});

afterAll(async () => {
  await dispatcher.close();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  server.routes.clear();
  server.requests.length = 0;
});

const options = (more: Partial<FetchOptions> = {}): FetchOptions => ({ dispatcher, maxBytes: MiB, retries: 0, backoffMs: 1, ...more });
const at = (path: string, base: URL = server.httpUrl) => new URL(path, base);

describe("fetchBytes", () => {
  it("downloads the key bundle over http and https", async () => {
    for (const base of [server.httpUrl, server.httpsUrl]) {
      const { bytes, finalUrl } = await fetchBytes(at("All/pkg_keys.pem", base), options());
      expect(Buffer.from(bytes).toString()).toBe("bundle bytes\n");
      expect(finalUrl.href).toBe(at("All/pkg_keys.pem", base).href);
    }
  });

  it("reports byte progress up to the announced size", async () => {
    const events: FetchProgress[] = [];
    const { bytes } = await fetchBytes(at("All/digest-20220214.tgz"), options({ onProgress: (p) => events.push(p) }));
    expect(bytes.byteLength).toBe(300_000);
    expect(events[0]).toMatchObject({ received: 0, total: 300_000 });
    expect(events.at(-1)).toMatchObject({ received: 300_000, total: 300_000 });
    const received = events.map((e) => e.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
  });

  it("fails on 404 with its own code and does not retry", async () => {
    await expect(fetchBytes(at("All/missing.pem"), options({ retries: 3 }))).rejects.toThrowWithCode("FETCH_NOT_FOUND");
    expect(server.requests).toEqual(["GET /All/missing.pem"]);
  });

  it("retries a 500 and then fails with the status", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.status(500));
    const error = await fetchBytes(at("All/pkg_keys.pem"), options({ retries: 2 })).catch((e: unknown) => e);
    expect(error).toThrowWithCode("FETCH_HTTP_STATUS");
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 403", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.status(403));
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ retries: 2 }))).rejects.toThrowWithCode("FETCH_HTTP_STATUS");
    expect(server.requests).toHaveLength(1);
  });

  it("succeeds when a 503 is followed by a 200", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.countThenSucceed(1, faults.status(503)));
    const { bytes } = await fetchBytes(at("All/pkg_keys.pem"), options({ retries: 2 }));
    expect(Buffer.from(bytes).toString()).toBe("bundle bytes\n");
    expect(server.requests).toHaveLength(2);
  });

  it("retries a connection reset in the middle of the body, then reports it", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.resetMidBody());
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ retries: 1 }))).rejects.toThrowWithCode("FETCH_INTERRUPTED");
    expect(server.requests).toHaveLength(2);
  });

  it("retries a connection reset before the response, then reports a network error", async () => {
    server.routes.set("/All/pkg_keys.pem", (request) => void request.socket.resetAndDestroy());
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ retries: 2 }))).rejects.toThrowWithCode("FETCH_NETWORK");
    expect(server.requests).toHaveLength(3);
  });

  it("times out on a server that never answers", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.stall());
    await expect(fetchBytes(at("All/pkg_keys.pem"), options())).rejects.toThrowWithCode("FETCH_TIMEOUT");
  });

  it("times out on a server that stops in the middle of the body", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.stall(1000));
    await expect(fetchBytes(at("All/pkg_keys.pem"), options())).rejects.toThrowWithCode("FETCH_TIMEOUT");
  });

  it("refuses an oversized bundle announced by Content-Length before reading it", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.body(2 * MiB));
    const events: FetchProgress[] = [];
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ onProgress: (p) => events.push(p) }))).rejects.toThrowWithCode("FETCH_TOO_LARGE");
    expect(events).toEqual([]);
  });

  it("stops an oversized bundle without Content-Length at the cap", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.body(2 * MiB, false));
    let last = 0;
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ onProgress: (p) => (last = p.received) }))).rejects.toThrowWithCode("FETCH_TOO_LARGE");
    expect(last).toBeLessThanOrEqual(MiB);
  });

  it("stops an endless body (the endless-data attack) at the cap", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.endless());
    await expect(fetchBytes(at("All/pkg_keys.pem"), options())).rejects.toThrowWithCode("FETCH_TOO_LARGE");
  });

  it("accepts a body of exactly the cap", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.body(MiB, false));
    const { bytes } = await fetchBytes(at("All/pkg_keys.pem"), options());
    expect(bytes.byteLength).toBe(MiB);
  });

  it("reports connection refused as a network error", async () => {
    const port = await freePort();
    await expect(fetchBytes(new URL(`http://127.0.0.1:${port}/pkg_keys.pem`), options())).rejects.toThrowWithCode("FETCH_NETWORK");
  });

  it("cancels on the caller's signal", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.stall());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(fetchBytes(at("All/pkg_keys.pem"), options({ signal: controller.signal, retries: 3 }))).rejects.toThrowWithCode("FETCH_ABORTED");
  });

  it("rejects schemes other than http, https and file", async () => {
    await expect(fetchBytes(new URL("ftp://ftp.NetBSD.org/pub/pkgsrc/pkg_keys.pem"), options())).rejects.toThrowWithCode("FETCH_BAD_URL");
  });

  it("never shows the password of a URL in errors", async () => {
    const url = at("All/missing");
    url.username = "user";
    url.password = "s3cret";
    const error = (await fetchBytes(url, options()).catch((e: unknown) => e)) as Error & { detail: object };
    expect(error).toThrowWithCode("FETCH_NOT_FOUND");
    expect(`${error.message} ${JSON.stringify(error.detail)}`).not.toContain("s3cret");
  });
});

describe("redirects", () => {
  it("follows up to five redirects and reports the final URL", async () => {
    server.routes.set("/keys", faults.redirectChain(5, "/All/pkg_keys.pem"));
    const { bytes, finalUrl } = await fetchBytes(at("keys"), options());
    expect(Buffer.from(bytes).toString()).toBe("bundle bytes\n");
    expect(finalUrl.pathname).toBe("/All/pkg_keys.pem");
    expect(server.requests).toHaveLength(6);
  });

  it("fails after more than five redirects", async () => {
    server.routes.set("/keys", faults.redirectChain(6, "/All/pkg_keys.pem"));
    await expect(fetchBytes(at("keys"), options())).rejects.toThrowWithCode("FETCH_TOO_MANY_REDIRECTS");
    expect(server.requests).toHaveLength(6);
  });

  it("detects a redirect loop", async () => {
    server.routes.set("/keys", faults.redirectLoop());
    await expect(fetchBytes(at("keys"), options({ retries: 3 }))).rejects.toThrowWithCode("FETCH_REDIRECT_LOOP");
    expect(server.requests).toHaveLength(1);
  });

  it("refuses a redirect from https to http (downgrade)", async () => {
    server.routes.set("/keys", faults.redirect((c) => new URL("All/pkg_keys.pem", c.httpUrl).href));
    await expect(fetchBytes(at("keys", server.httpsUrl), options())).rejects.toThrowWithCode("FETCH_INSECURE_REDIRECT");
    expect(server.requests).toEqual(["GET /keys"]);
  });

  it("follows a redirect from http to https", async () => {
    server.routes.set("/keys", faults.redirect((c) => new URL("All/pkg_keys.pem", c.httpsUrl).href, 301));
    const { finalUrl } = await fetchBytes(at("keys"), options());
    expect(finalUrl.protocol).toBe("https:");
  });

  it("refuses a redirect to a local file", async () => {
    server.routes.set("/keys", faults.redirect("file:///etc/passwd"));
    await expect(fetchBytes(at("keys"), options())).rejects.toThrowWithCode("FETCH_INSECURE_REDIRECT");
  });
});

describe("fetchStream", () => {
  it("streams a package with its size, checking the cap as it goes", async () => {
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options());
    expect(opened.size).toBe(300_000);
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(await readFile(join(root, "All/digest-20220214.tgz")))).toBe(true);
  });

  it("reports a reset in the middle of the body while streaming, without retrying", async () => {
    server.routes.set("/All/digest-20220214.tgz", faults.resetMidBody());
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options({ retries: 3 }));
    await expect(drain(opened.body)).rejects.toThrowWithCode("FETCH_INTERRUPTED");
    expect(server.requests).toHaveLength(1);
  });

  it("retries before the body starts", async () => {
    server.routes.set("/All/digest-20220214.tgz", faults.countThenSucceed(2, faults.status(502)));
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options({ retries: 3 }));
    await drain(opened.body);
    expect(server.requests).toHaveLength(3);
  });

  it("cancels in the middle of the body on the caller's signal", async () => {
    server.routes.set("/All/digest-20220214.tgz", faults.stall(1000));
    const controller = new AbortController();
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options({ signal: controller.signal }));
    const reading = drain(opened.body);
    setTimeout(() => controller.abort(), 50);
    await expect(reading).rejects.toThrowWithCode("FETCH_ABORTED");
  });

  it("closes the download when the caller stops reading", async () => {
    server.routes.set("/All/digest-20220214.tgz", faults.endless());
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options({ maxBytes: 1 << 30 }));
    for await (const chunk of opened.body) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    server.routes.clear();
    const { bytes } = await fetchBytes(at("All/pkg_keys.pem"), options());
    expect(bytes.byteLength).toBe(13);
  });

  it("stops an oversized stream at the cap", async () => {
    server.routes.set("/All/digest-20220214.tgz", faults.endless());
    const opened = await fetchStream(at("All/digest-20220214.tgz"), options());
    await expect(drain(opened.body)).rejects.toThrowWithCode("FETCH_TOO_LARGE");
  });
});

describe("urlExists", () => {
  it("tells an existing file from a missing one", async () => {
    expect(await urlExists(at("All/pkg_summary.gz"), options())).toBe(true);
    expect(await urlExists(at("pkg_summary.gz"), options())).toBe(false);
  });

  it("passes other failures on", async () => {
    server.routes.set("/All/pkg_summary.gz", faults.status(500));
    await expect(urlExists(at("All/pkg_summary.gz"), options())).rejects.toThrowWithCode("FETCH_HTTP_STATUS");
  });
});

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of body) total += chunk.byteLength;
  return total;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
