import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { fetchBytes } from "../../src/net/fetch.js";
import { startProxy, type TestProxy } from "../fixtures/proxy.js";
import { faults, startRepoServer, writeRepoTree, type RepoServer } from "../fixtures/repo-server.js";

let root: string;
let server: RepoServer;
let proxy: TestProxy;
// Nothing listens here: a request sent to it fails.
const deadProxy = "http://127.0.0.1:9/";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pkgtrust-proxy-"));
  await writeRepoTree(root, { packages: [{ pkgname: "digest-20220214" }], keys: "bundle bytes\n" });
  server = await startRepoServer({ root });
  proxy = await startProxy();
});

afterAll(async () => {
  await Promise.all([server.close(), proxy.close()]);
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  proxy.requests.length = 0;
  server.requests.length = 0;
});

async function fetchVia(env: NodeJS.ProcessEnv, base: URL): Promise<string> {
  const dispatcher = createDispatcher({ env, ca: server.caPem, timeouts: { connectMs: 1000 } });
  try {
    const { bytes } = await fetchBytes(new URL("All/pkg_keys.pem", base), { dispatcher, maxBytes: 1 << 20, retries: 0 });
    return Buffer.from(bytes).toString();
  } finally {
    await dispatcher.close();
  }
}

describe("proxies from the environment", () => {
  it("sends http through HTTP_PROXY as an absolute-URI request", async () => {
    expect(await fetchVia({ HTTP_PROXY: proxy.url.href }, server.httpUrl)).toBe("bundle bytes\n");
    expect(proxy.requests).toEqual([`GET ${new URL("All/pkg_keys.pem", server.httpUrl).href}`]);
    expect(server.requests).toEqual(["GET /All/pkg_keys.pem"]);
  });

  it("tunnels https through HTTPS_PROXY with CONNECT and still checks the server's certificate", async () => {
    expect(await fetchVia({ HTTPS_PROXY: proxy.url.href }, server.httpsUrl)).toBe("bundle bytes\n");
    expect(proxy.requests).toEqual([`CONNECT ${server.httpsUrl.host}`]);
    const dispatcher = createDispatcher({ env: { HTTPS_PROXY: proxy.url.href } });
    const untrusted = fetchBytes(new URL("All/pkg_keys.pem", server.httpsUrl), { dispatcher, maxBytes: 1 << 20, retries: 0 });
    await expect(untrusted).rejects.toThrowWithCode("FETCH_TLS");
    await dispatcher.close();
  });

  it("prefers the lower-case variables, as curl does", async () => {
    expect(await fetchVia({ http_proxy: proxy.url.href, HTTP_PROXY: deadProxy }, server.httpUrl)).toBe("bundle bytes\n");
    expect(proxy.requests).toHaveLength(1);
  });

  it("accepts a proxy given as host:port", async () => {
    expect(await fetchVia({ HTTP_PROXY: proxy.url.host }, server.httpUrl)).toBe("bundle bytes\n");
    expect(proxy.requests).toHaveLength(1);
  });

  it("bypasses the proxy for hosts in NO_PROXY", async () => {
    expect(await fetchVia({ HTTP_PROXY: deadProxy, HTTPS_PROXY: deadProxy, NO_PROXY: "localhost,127.0.0.1" }, server.httpUrl)).toBe("bundle bytes\n");
    expect(await fetchVia({ HTTP_PROXY: deadProxy, HTTPS_PROXY: deadProxy, no_proxy: "127.0.0.1" }, server.httpsUrl)).toBe("bundle bytes\n");
    expect(server.requests).toHaveLength(2);
  });

  it("reports an unreachable proxy as a network error", async () => {
    await expect(fetchVia({ HTTP_PROXY: deadProxy }, server.httpUrl)).rejects.toThrowWithCode("FETCH_NETWORK");
    expect(server.requests).toEqual([]);
  });

  it("reports a proxy that refuses, for http and for CONNECT", async () => {
    // For plain http, only a 407 tells the proxy's answer from the server's own.
    for (const [status, httpCode] of [[407, "FETCH_PROXY"], [403, "FETCH_HTTP_STATUS"]] as const) {
      const refusing = await startProxy({ refuse: status });
      try {
        await expect(fetchVia({ HTTP_PROXY: refusing.url.href }, server.httpUrl)).rejects.toThrowWithCode(httpCode);
        await expect(fetchVia({ HTTPS_PROXY: refusing.url.href }, server.httpsUrl)).rejects.toThrowWithCode("FETCH_PROXY");
        expect(refusing.requests).toHaveLength(2);
      } finally {
        await refusing.close();
      }
    }
    expect(server.requests).toEqual([]);
  });

  it("applies the timeouts to requests through the proxy", async () => {
    server.routes.set("/All/pkg_keys.pem", faults.stall());
    try {
      for (const [variable, base] of [["HTTP_PROXY", server.httpUrl], ["HTTPS_PROXY", server.httpsUrl]] as const) {
        const dispatcher = createDispatcher({ env: { [variable]: proxy.url.href }, ca: server.caPem, timeouts: { headersMs: 300 } });
        const started = Date.now();
        const download = fetchBytes(new URL("All/pkg_keys.pem", base), { dispatcher, maxBytes: 1 << 20, retries: 0 });
        await expect(download).rejects.toThrowWithCode("FETCH_TIMEOUT");
        expect(Date.now() - started).toBeLessThan(5000);
        await dispatcher.destroy();
      }
    } finally {
      server.routes.clear();
    }
  });

  it("rejects a proxy variable that is not an http(s) URL", () => {
    expect(() => createDispatcher({ env: { HTTPS_PROXY: "socks5://127.0.0.1:1080" } })).toThrowWithCode("FETCH_BAD_PROXY");
    expect(() => createDispatcher({ env: { HTTP_PROXY: "http://[bad" } })).toThrowWithCode("FETCH_BAD_PROXY");
  });

  describe("with proxy variables in process.env", () => {
    const saved = { ...process.env };
    beforeEach(() => {
      process.env.HTTP_PROXY = deadProxy;
      process.env.http_proxy = deadProxy;
    });
    afterEach(() => {
      process.env = { ...saved };
    });

    it("reads only the env object it is given", async () => {
      expect(await fetchVia({}, server.httpUrl)).toBe("bundle bytes\n");
    });
  });
});
