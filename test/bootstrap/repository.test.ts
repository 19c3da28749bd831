import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  chooseTestPackage,
  keyBundleUrl,
  normaliseRepository,
  packageUrl,
  parseRepositoryInput,
  readPkgSummary,
} from "../../src/bootstrap/repository.js";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { createFetcher, type Fetcher } from "../../src/net/fetcher.js";
import { testLimits } from "../fixtures/fetcher.js";
import { compress, makeableCompressions } from "../fixtures/packages.js";
import { requireTools } from "../fixtures/requirements.js";
import { faults, startRepoServer, writeRepoTree, type RepoServer } from "../fixtures/repo-server.js";

let root: string;
let server: RepoServer;
let dispatcher: Dispatcher;
let fetcher: Fetcher;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pkgtrust-repo-"));
  await writeRepoTree(root, {
    packages: [{ pkgname: "digest-20190127" }, { pkgname: "digest-20220214" }, { pkgname: "pkgin-23.8.1nb1", fileName: "pkgin-23.8.1nb1.tgz" }],
  });
  server = await startRepoServer({ root });
  // No test here waits for a timeout: generous ones, so a loaded machine cannot turn an answer into FETCH_TIMEOUT.
  dispatcher = createDispatcher({ env: {}, ca: server.caPem, timeouts: { headersMs: 10_000, bodyMs: 10_000 } });
  fetcher = createFetcher({ dispatcher, limits: testLimits({ retries: 0 }) });
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

describe("parseRepositoryInput", () => {
  it("takes http, https and file URLs and absolute paths", () => {
    const cdn = "https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All";
    expect(parseRepositoryInput(cdn, "/").href).toBe("https://cdn.netbsd.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All");
    expect(parseRepositoryInput(" http://mirror.example/pkgsrc/ ", "/").href).toBe("http://mirror.example/pkgsrc/");
    expect(parseRepositoryInput("file:///mnt/packages/All", "/").href).toBe("file:///mnt/packages/All");
    expect(parseRepositoryInput("/mnt/cdrom/packages/All", "/").href).toBe("file:///mnt/cdrom/packages/All");
  });

  it.each([
    ["a relative path", "packages/All"],
    ["a host without a scheme", "cdn.NetBSD.org/pub/pkgsrc"],
    ["an empty string", "  "],
    ["ftp", "ftp://ftp.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All"],
    ["another scheme", "rsync://mirror.example/pkgsrc"],
    ["a file URL naming a host", "file://server.example/packages"],
    ["credentials", "https://user:pw@mirror.example/All"],
    ["a query", "https://mirror.example/All?x=1"],
    ["an invalid URL", "http://[::1/All"],
  ])("rejects %s", (_what, input) => {
    expect(() => parseRepositoryInput(input, "/home/admin")).toThrowWithCode("REPO_BAD_URL");
  });
});

describe("keyBundleUrl and packageUrl", () => {
  it("join names to the repository directory, with or without its trailing slash", () => {
    expect(keyBundleUrl(new URL("https://m.example/pkgsrc/All")).href).toBe("https://m.example/pkgsrc/All/pkg_keys.pem");
    expect(keyBundleUrl(new URL("https://m.example/pkgsrc/All/")).href).toBe("https://m.example/pkgsrc/All/pkg_keys.pem");
    const entry = { pkgname: "digest-1", base: "digest", version: "1", fileName: "digest-1.tgz" };
    expect(packageUrl(new URL("file:///mnt/All"), entry).href).toBe("file:///mnt/All/digest-1.tgz");
  });
});

describe("normaliseRepository", () => {
  it("adds the trailing slash and the missing All/ when All/pkg_summary.gz exists", async () => {
    for (const base of [server.httpUrl, server.httpsUrl, pathToFileURL(root)]) {
      const given = new URL(base.href.replace(/\/$/, ""));
      expect((await normaliseRepository(given, fetcher)).href).toBe(new URL("All/", withSlash(base)).href);
    }
  });

  it("keeps a URL that already ends in All", async () => {
    const all = new URL("All", server.httpUrl);
    expect((await normaliseRepository(all, fetcher)).href).toBe(`${all.href}/`);
    expect(server.requests).toEqual([]);
  });

  it("keeps a directory without All/ as it is", async () => {
    const flat = await mkdtemp(join(tmpdir(), "pkgtrust-flat-"));
    try {
      expect((await normaliseRepository(pathToFileURL(flat), fetcher)).href).toBe(`${pathToFileURL(flat).href}/`);
    } finally {
      await rm(flat, { recursive: true, force: true });
    }
  });

  it("passes a failing server on", async () => {
    server.routes.set("/All/pkg_summary.gz", faults.status(500));
    await expect(normaliseRepository(server.httpUrl, fetcher)).rejects.toThrowWithCode("FETCH_HTTP_STATUS");
  });
});

describe("readPkgSummary", () => {
  it("reads pkg_summary.gz over http, https and from a file URL", async () => {
    for (const base of [server.httpUrl, server.httpsUrl, pathToFileURL(`${root}/`)]) {
      const entries = await readPkgSummary(new URL("All/", base), fetcher);
      expect(entries.map((e) => e.pkgname)).toEqual(["digest-20190127", "digest-20220214", "pkgin-23.8.1nb1"]);
    }
  });

  it("falls back to the plain pkg_summary", async () => {
    const plain = await mkdtemp(join(tmpdir(), "pkgtrust-plain-"));
    try {
      await writeRepoTree(plain, { packages: [{ pkgname: "tiny-1.0" }], summary: "plain" });
      const entries = await readPkgSummary(pathToFileURL(join(plain, "All/")), fetcher);
      expect(entries.map((e) => e.pkgname)).toEqual(["tiny-1.0"]);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it.each(makeableCompressions(["bzip2", "xz"] as const, "pkg_summary of every compression").map((c) => (c === "bzip2" ? "bz2" : c)))("takes pkg_summary.%s when pkg_summary.gz is absent, and the All/ it is in", async (kind) => {
    const repo = await mkdtemp(join(tmpdir(), `pkgtrust-${kind}-`));
    try {
      await writeRepoTree(repo, { packages: [{ pkgname: "tiny-1.0" }, { pkgname: "digest-20220214" }], summary: kind });
      const repository = await normaliseRepository(pathToFileURL(repo), fetcher);
      expect(repository.href).toBe(`${pathToFileURL(repo).href}/All/`);
      expect((await readPkgSummary(repository, fetcher)).map((e) => e.pkgname)).toEqual(["tiny-1.0", "digest-20220214"]);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it.runIf(requireTools(["xz", "bzip2"], "pkg_summary compressed with xz and bzip2"))("tells the compression by its magic bytes and caps an xz bomb", async () => {
    const xzBomb = compress(Buffer.alloc(8 * 1024 * 1024, 0x41), "xz");
    server.routes.set("/All/pkg_summary.gz", (_req, res) => void res.writeHead(200).end(xzBomb));
    const limits = { maxCompressedBytes: 1024 * 1024, maxSummaryBytes: 1024 * 1024 };
    await expect(readPkgSummary(new URL("All/", server.httpUrl), fetcher, {}, limits)).rejects.toThrowWithCode("REPO_SUMMARY_TOO_LARGE");
    server.routes.set("/All/pkg_summary.gz", (_req, res) => void res.writeHead(200).end(compress(Buffer.from("PKGNAME=xz-1.0\n"), "bzip2")));
    expect((await readPkgSummary(new URL("All/", server.httpUrl), fetcher)).map((e) => e.pkgname)).toEqual(["xz-1.0"]);
  });

  it("reports a repository without any", async () => {
    await expect(readPkgSummary(server.httpUrl, fetcher)).rejects.toThrowWithCode("REPO_SUMMARY_MISSING");
    expect(server.requests).toEqual(["GET /pkg_summary.gz", "GET /pkg_summary.bz2", "GET /pkg_summary.xz", "GET /pkg_summary"]);
  });

  it("stops a decompression bomb at the unpacked cap", async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x41));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    server.routes.set("/All/pkg_summary.gz", (_req, res) => void res.writeHead(200).end(bomb));
    const limits = { maxCompressedBytes: 1024 * 1024, maxSummaryBytes: 1024 * 1024 };
    await expect(readPkgSummary(new URL("All/", server.httpUrl), fetcher, {}, limits)).rejects.toThrowWithCode("REPO_SUMMARY_TOO_LARGE");
  });

  it("caps the compressed download", async () => {
    server.routes.set("/All/pkg_summary.gz", faults.endless());
    const limits = { maxCompressedBytes: 1024 * 1024, maxSummaryBytes: 1024 * 1024 };
    await expect(readPkgSummary(new URL("All/", server.httpUrl), fetcher, {}, limits)).rejects.toThrowWithCode("FETCH_TOO_LARGE");
  });

  it("reports a corrupt or truncated gzip file", async () => {
    const good = await readFile(join(root, "All/pkg_summary.gz"));
    for (const bytes of [Buffer.from("not gzip"), good.subarray(0, good.byteLength - 10)]) {
      server.routes.set("/All/pkg_summary.gz", (_req, res) => void res.writeHead(200).end(bytes));
      await expect(readPkgSummary(new URL("All/", server.httpUrl), fetcher)).rejects.toThrowWithCode("REPO_SUMMARY_MALFORMED");
    }
  });
});

describe("from a mirror URL to the test package", () => {
  it("normalises, picks digest and downloads it", async () => {
    const repository = await normaliseRepository(parseRepositoryInput(server.httpsUrl.href, "/"), fetcher);
    const chosen = chooseTestPackage(await readPkgSummary(repository, fetcher));
    expect(chosen.pkgname).toBe("digest-20220214");
    const { bytes } = await fetcher.bytes(packageUrl(repository, chosen), 1 << 20);
    expect(Buffer.from(bytes).equals(await readFile(join(root, "All/digest-20220214.tgz")))).toBe(true);
  });

  it("works offline from a mounted directory given as a path", async () => {
    const media = await mkdtemp(join(tmpdir(), "pkgtrust-media-"));
    try {
      await mkdir(join(media, "All"));
      await writeFile(join(media, "All/pkg_summary.gz"), gzipSync("PKGNAME=pkgin-23.8.1\n"));
      const repository = await normaliseRepository(parseRepositoryInput(media, "/"), fetcher);
      expect(chooseTestPackage(await readPkgSummary(repository, fetcher), "pkgin").fileName).toBe("pkgin-23.8.1.tgz");
    } finally {
      await rm(media, { recursive: true, force: true });
    }
  });
});

function withSlash(url: URL): string {
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}
