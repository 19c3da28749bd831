/**
 * Bench section (issue 13): `pkgtrust setup` end to end against a small loopback repository
 * (target: under 0.3 s from the single file), and the download-plus-verify of a 256 MiB test
 * package, which pkgtrust verifies while downloading, against `curl -o` followed by
 * `openssl dgst -sha512`, over HTTP (target <= 0.8x) and over HTTPS (<= 0.9x). The
 * repository is served by a separate process (test/fixtures/repo-server.ts: node:http and
 * node:https with the test CA) so that the timed commands run synchronously here. Under the
 * download rows, their floor: the body alone through pkgtrust's fetcher against curl's, and
 * the server's own CPU per download (it shares the two cores with both sides).
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import type { TestPki } from "../fixtures/pki.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";
import { CLI, DIST, loadLine, measure, paired, ratioRow, type BenchPackage, type Measured, type SectionResult } from "./package.js";

const SERVER = fileURLToPath(new URL("../fixtures/repo-server.js", import.meta.url));
const DOWNLOAD_CHILD = fileURLToPath(new URL("./download-child.js", import.meta.url));
const ROUNDS = 5;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; undefined elsewhere). */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "latin1").replace(/^.*\) /s, "").split(" ");
    // utime and stime (fields 14 and 15 of stat(5)), in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function serve(dir: string): Promise<{ http: URL; https: URL; caPem: string; cpuSeconds(): number | undefined; stop(): void }> {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", `const { startRepoServer } = await import(${JSON.stringify(SERVER)}); const s = await startRepoServer({ root: process.argv[1] }); process.stdout.write(JSON.stringify({ http: s.httpUrl.href, https: s.httpsUrl.href, caPem: s.caPem }) + "\\n");`, dir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const text = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(out);
    });
  });
  const { http, https, caPem } = JSON.parse(text) as { http: string; https: string; caPem: string };
  return { http: new URL(http), https: new URL(https), caPem, cpuSeconds: () => cpuSeconds(child.pid), stop: () => child.kill() };
}

function target(base: string, name: string, anchorPem: string): string {
  const dir = path.join(base, name);
  mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(dir, DEFAULT_ANCHOR), anchorPem);
  return dir;
}

export async function setupSection(dir: string, pki: TestPki, big: BenchPackage): Promise<SectionResult> {
  const www = mkdtempSync(path.join(dir, "www-"));
  const trust = await standardPki(pki);
  await writeRepository(path.join(www, "small"), { bundle: trust.ca.certPem + trust.build.certPem, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  const bigAll = path.join(www, "big/All");
  mkdirSync(bigAll, { recursive: true });
  copyFileSync(big.signed, path.join(bigAll, "bench-1.0.tgz"));
  const size = statSync(big.signed).size;
  writeFileSync(path.join(bigAll, "pkg_summary.gz"), gzipSync(`PKGNAME=bench-1.0\nFILE_NAME=bench-1.0.tgz\nFILE_SIZE=${size}\n`));
  writeFileSync(path.join(bigAll, "pkg_keys.pem"), big.ca.certPem + big.signer.certPem);
  const server = await serve(www);
  const caFile = path.join(dir, "bench-ca.pem");
  writeFileSync(caFile, server.caPem);
  try {
    let runs = 0;
    const setup = (program: string, base: URL, repo: string, anchorPem: string, extra: string[] = []) => () => {
      const root = target(dir, `target-${runs++}`, anchorPem);
      const result = measure(process.execPath, [program, "setup", "--repo", new URL(repo, base).href, "--root", root, "--json", ...(base.protocol === "https:" ? ["--ca-file", caFile] : []), ...extra]);
      if (result.status !== 0) throw new Error(`setup against ${repo} failed with status ${result.status}`);
      rmSync(root, { recursive: true, force: true });
      return result;
    };
    const small = paired(ROUNDS, {
      dist: setup(DIST, server.http, "small/All/", trust.root.certPem),
      bin: setup(CLI, server.http, "small/All/", trust.root.certPem),
    });
    const download = path.join(dir, "curl-download.tgz");
    const curlThenOpenssl = (base: URL) => (): Measured => {
      const url = new URL("big/All/bench-1.0.tgz", base).href;
      const curl = measure("curl", ["-s", "-f", ...(base.protocol === "https:" ? ["--cacert", caFile] : []), "-o", download, url]);
      const digest = measure("openssl", ["dgst", "-sha512", download]);
      rmSync(download, { force: true });
      return { seconds: curl.seconds + digest.seconds, rssKiB: Math.max(curl.rssKiB, digest.rssKiB), status: Math.max(curl.status, digest.status) };
    };
    const withBig = ["--test-package", "bench"];
    curlThenOpenssl(server.http)(); // warm the page cache
    const lines = [
      `setup end to end, small repository (dist)  ${small.dist.seconds.toFixed(3)} s (target < 0.3 s) ${small.dist.seconds < 0.3 ? "ok" : "MISSED"}, peak RSS ${(small.dist.rssKiB / 1024).toFixed(1)} MiB`,
      `  the same, bin/pkgtrust.mjs                ${small.bin.seconds.toFixed(3)} s, peak RSS ${(small.bin.rssKiB / 1024).toFixed(1)} MiB`,
      `  (median of ${ROUNDS} paired rounds) ${loadLine()}`,
    ];
    let missed = small.dist.seconds >= 0.3;
    for (const [scheme, base, goal] of [["HTTP", server.http, 0.8], ["HTTPS", server.https, 0.9]] as const) {
      const result = paired(ROUNDS, {
        reference: curlThenOpenssl(base),
        dist: setup(DIST, base, "big/All/", big.root.certPem, withBig),
        bin: setup(CLI, base, "big/All/", big.root.certPem, withBig),
      });
      const rows = [ratioRow(`setup + ${(size / 1048576).toFixed(0)} MiB test package, dist`, result.dist.seconds, result.reference.seconds, goal), ratioRow("  the same, bin/pkgtrust.mjs", result.bin.seconds, result.reference.seconds)];
      lines.push(`${scheme}: curl -o, then openssl dgst (reference) ${result.reference.seconds.toFixed(3)} s`, ...rows.map((r) => r.line), `  peak RSS ${(result.dist.rssKiB / 1024).toFixed(1)} MiB; ${loadLine()}`);
      lines.push(...downloadFloor(base));
      missed ||= rows.some((r) => r.missed);
    }
    return { lines, missed };

    /**
     * The floor under the download rows: the body alone read by pkgtrust's fetcher (undici) and
     * dropped, against curl's, in whole-process times; and the CPU that the repository server
     * (node:http, a separate process) spends per download on the same two cores.
     */
    function downloadFloor(base: URL): string[] {
      const url = new URL("big/All/bench-1.0.tgz", base).href;
      const tls = base.protocol === "https:";
      const before = server.cpuSeconds();
      measure("curl", ["-s", "-f", ...(tls ? ["--cacert", caFile] : []), "-o", "/dev/null", url]);
      const after = server.cpuSeconds();
      const floor = paired(ROUNDS, {
        curl: () => measure("curl", ["-s", "-f", ...(tls ? ["--cacert", caFile] : []), "-o", "/dev/null", url]),
        fetcher: () => {
          const run = measure(process.execPath, [DOWNLOAD_CHILD, url, ...(tls ? [caFile] : [])]);
          if (run.status !== 0) throw new Error(`the fetcher's download of ${url} failed with status ${run.status}`);
          return run;
        },
      });
      const serverCpu = before === undefined || after === undefined ? "unknown" : `${(after - before).toFixed(2)} s`;
      return [
        `  floor: curl -o /dev/null (reference)      ${floor.curl.seconds.toFixed(3)} s; the server's CPU per download ${serverCpu}`,
        ratioRow("  floor: pkgtrust's fetcher, body dropped", floor.fetcher.seconds, floor.curl.seconds).line,
      ];
    }
  } finally {
    server.stop();
    rmSync(www, { recursive: true, force: true });
  }
}
