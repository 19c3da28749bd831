import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { fetchBytes } from "../../src/net/fetch.js";
import { startRepoServer, writeRepoTree, type RepoServer } from "../fixtures/repo-server.js";
import { testTls } from "../fixtures/tls.js";

let root: string;
let good: RepoServer;
let wrongName: RepoServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pkgtrust-tls-"));
  await writeRepoTree(root, { packages: [{ pkgname: "digest-20220214" }], keys: "bundle bytes\n" });
  good = await startRepoServer({ root });
  wrongName = await startRepoServer({ root, certificate: (await testTls()).wrongName });
});

afterAll(async () => {
  await Promise.all([good.close(), wrongName.close()]);
  await rm(root, { recursive: true, force: true });
});

const keys = (server: RepoServer) => new URL("All/pkg_keys.pem", server.httpsUrl);

async function fetchWith(url: URL, ca?: string, retries = 3) {
  const dispatcher = createDispatcher({ env: {}, ...(ca === undefined ? {} : { ca }), timeouts: { connectMs: 500 } });
  try {
    // A long backoff: if a TLS failure were retried, the test would take seconds.
    return await fetchBytes(url, { dispatcher, maxBytes: 1 << 20, retries, backoffMs: 5000 });
  } finally {
    await dispatcher.close();
  }
}

describe("TLS", () => {
  it("trusts a private CA given as --ca-file", async () => {
    const { bytes } = await fetchWith(keys(good), good.caPem);
    expect(Buffer.from(bytes).toString()).toBe("bundle bytes\n");
  });

  it("refuses a server whose CA is not trusted, without retrying", async () => {
    const before = good.requests.length;
    const started = Date.now();
    const error = await fetchWith(keys(good)).catch((e: unknown) => e);
    expect(error).toThrowWithCode("FETCH_TLS");
    expect((error as { detail: { cause: string } }).detail.cause).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(good.requests).toHaveLength(before);
  });

  it("refuses a certificate for another host name even from a trusted CA", async () => {
    const error = await fetchWith(keys(wrongName), wrongName.caPem).catch((e: unknown) => e);
    expect(error).toThrowWithCode("FETCH_TLS");
    expect((error as { detail: { cause: string } }).detail.cause).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(wrongName.requests).toEqual([]);
  });

  it("refuses https to a plain http server", async () => {
    const url = new URL("All/pkg_keys.pem", good.httpUrl);
    url.protocol = "https:";
    await expect(fetchWith(url, good.caPem)).rejects.toThrowWithCode("FETCH_TLS");
  });

  it("times out a server that accepts TCP but never completes the handshake", async () => {
    const { port, close } = await silentServer();
    try {
      await expect(fetchWith(new URL(`https://127.0.0.1:${port}/pkg_keys.pem`), good.caPem, 0)).rejects.toThrowWithCode("FETCH_TIMEOUT");
    } finally {
      await close();
    }
  });

  it("rejects a CA file without a certificate", () => {
    expect(() => createDispatcher({ env: {}, ca: "not a certificate\n" })).toThrowWithCode("FETCH_BAD_CA");
    const broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(() => createDispatcher({ env: {}, ca: good.caPem + broken })).toThrowWithCode("FETCH_BAD_CA");
  });
});

async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port, close };
}
