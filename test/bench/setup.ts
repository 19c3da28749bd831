/**
 * Bench section: `pkgtrust setup` end to end against a loopback repository, and the
 * download-plus-verify of a 256 MiB test package against `curl -o` followed by
 * `openssl dgst -sha512` (pkgtrust verifies while downloading). The repository is served
 * by a separate process so that the timed commands can run synchronously here.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import type { TestPki } from "../fixtures/pki.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";
import { CLI, DIST, measure, type BenchPackage, type SectionResult } from "./package.js";

const SERVER = fileURLToPath(new URL("../../src/demo/server.js", import.meta.url));

async function serve(dir: string): Promise<{ url: URL; stop(): void }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", `const { serveDirectory } = await import(${JSON.stringify(SERVER)}); const s = await serveDirectory(process.argv[1]); process.stdout.write(s.url.href + "\\n");`, dir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve) => child.stdout.once("data", (b: Buffer) => resolve(b.toString().trim())));
  return { url: new URL(url), stop: () => child.kill() };
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
  try {
    let runs = 0;
    const setup = (repo: string, anchorPem: string, extra: string[] = [], program = CLI) => {
      const root = target(dir, `target-${runs++}`, anchorPem);
      const result = measure(process.execPath, [program, "setup", "--repo", new URL(repo, server.url).href, "--root", root, "--json", ...extra]);
      if (result.status !== 0) throw new Error(`setup against ${repo} failed with status ${result.status}`);
      return result;
    };
    const fastest = (run: () => ReturnType<typeof setup>) => [run(), run(), run()].sort((a, b) => a.seconds - b.seconds)[0]!;
    const small = fastest(() => setup("small/All/", trust.root.certPem));
    const smallDist = fastest(() => setup("small/All/", trust.root.certPem, [], DIST));
    const download = path.join(dir, "curl-download.tgz");
    const packageUrl = new URL("big/All/bench-1.0.tgz", server.url).href;
    measure("curl", ["-s", "-o", download, packageUrl]); // warm the page cache
    const reference = [0, 1, 2]
      .map(() => {
        const curl = measure("curl", ["-s", "-o", download, packageUrl]);
        const digest = measure("openssl", ["dgst", "-sha512", download]);
        return curl.seconds + digest.seconds;
      })
      .sort((a, b) => a - b)[0]!;
    const pkgtrust = fastest(() => setup("big/All/", big.root.certPem, ["--test-package", "bench"]));
    const pkgtrustDist = fastest(() => setup("big/All/", big.root.certPem, ["--test-package", "bench"], DIST));
    const ratio = pkgtrust.seconds / reference;
    const distRatio = pkgtrustDist.seconds / reference;
    return {
      lines: [
        `setup end to end (small repo) ${small.seconds.toFixed(3)} s, peak RSS ${(small.rssKiB / 1024).toFixed(1)} MiB`,
        `  the same, dist/pkgtrust.mjs  ${smallDist.seconds.toFixed(3)} s, peak RSS ${(smallDist.rssKiB / 1024).toFixed(1)} MiB`,
        `curl -o + openssl dgst        ${reference.toFixed(3)} s (${(size / 1048576).toFixed(1)} MiB package)`,
        `setup with that test package  ${pkgtrust.seconds.toFixed(3)} s  ratio ${ratio.toFixed(2)} (verifies while downloading; aim well under 1.0)`,
        `  the same, dist/pkgtrust.mjs  ${pkgtrustDist.seconds.toFixed(3)} s  ratio ${distRatio.toFixed(2)}`,
      ],
      missed: false,
    };
  } finally {
    server.stop();
    rmSync(www, { recursive: true, force: true });
  }
}
