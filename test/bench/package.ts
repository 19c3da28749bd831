/**
 * Bench section: verify-package on a 256 MiB signed package made on the fly, against
 * `openssl dgst -sha512` over the same file in the same run. Prints the wall-time ratio
 * (target <= 1.2) and verify-package's peak RSS (target <= 100 MiB). The ratio is given
 * twice: for the verification itself (a fresh process, module loading excluded) and for
 * the whole `pkgtrust verify-package` process, whose start-up (loading the X.509 and zod
 * modules, ~0.2 s) is a fixed cost that no package size amortises here.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { createWriteStream, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import { signPackage } from "../../src/keys/sign-package.js";
import { TestPki } from "../fixtures/pki.js";

const SIZE = 256 * 1024 * 1024;
const RUNS = 3;
export const CLI = fileURLToPath(new URL("../../../bin/pkgtrust.mjs", import.meta.url));
/** The single-file build (npm run build makes it). */
export const DIST = fileURLToPath(new URL("../../../dist/pkgtrust.mjs", import.meta.url));
const CHILD = fileURLToPath(new URL("./verify-child.js", import.meta.url));

export async function writeInnerPackage(path: string, size: number): Promise<void> {
  const tar = pack();
  const contents = Buffer.from("@name bench-1.0\n@cwd /usr/pkg\nshare/bench/data\n");
  tar.entry({ name: "+CONTENTS", size: contents.length }, contents);
  const entry = tar.entry({ name: "share/bench/data", size }, () => tar.finalize());
  const writing = pipeline(tar, createGzip({ level: 1 }), createWriteStream(path));
  const chunk = Buffer.alloc(1 << 20);
  for (let written = 0; written < size; written += chunk.length) {
    // Incompressible, so that the package is as large as its payload.
    if (!entry.write(randomFillSync(chunk).subarray(0, Math.min(chunk.length, size - written)))) await new Promise<void>((r) => entry.once("drain", () => r()));
  }
  entry.end(Buffer.alloc(0));
  await writing;
}

/** Wall seconds and peak RSS (KiB) of a command, via GNU time. */
export function measure(command: string, args: string[]): { seconds: number; rssKiB: number; status: number } {
  const start = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-f", "%M", command, ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rssKiB = Number(result.stderr.trim().split("\n").at(-1));
  return { seconds, rssKiB, status: result.status ?? -1 };
}

export function best(command: string, args: string[]): { seconds: number; rssKiB: number; status: number } {
  const runs = Array.from({ length: RUNS }, () => measure(command, args));
  return { seconds: Math.min(...runs.map((r) => r.seconds)), rssKiB: Math.max(...runs.map((r) => r.rssKiB)), status: Math.max(...runs.map((r) => r.status)) };
}

export const BENCH_SIZE = SIZE;

/** A signed package of about 256 MiB and the anchor that verifies it. */
export async function makeBenchPackage(dir: string, pki: TestPki) {
  const root = await pki.root("Bench Root");
  const ca = await pki.intermediate(root, "Bench CA");
  const signer = await pki.signer(ca, "Bench Build");
  const anchor = pki.writePem("anchor.pem", root.certPem);
  const inner = join(dir, "bench-1.0.tgz");
  process.stdout.write("making a 256 MiB package ...\n");
  await writeInnerPackage(inner, SIZE - 64 * 1024);
  const signed = join(dir, "bench-1.0-signed.tgz");
  await signPackage({ input: inner, output: signed, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca.certPem });
  rmSync(inner);
  return { root, ca, signer, anchor, signed };
}

export interface SectionResult {
  readonly lines: readonly string[];
  readonly missed: boolean;
}

export type BenchPackage = Awaited<ReturnType<typeof makeBenchPackage>>;

export async function packageSection({ anchor, signed }: BenchPackage): Promise<SectionResult> {
  const size = statSync(signed).size;
  // Warm the page cache so that both sides read from memory.
  measure("openssl", ["dgst", "-sha512", signed]);
  const openssl = best("openssl", ["dgst", "-sha512", signed]);
  const cli = best(process.execPath, [CLI, "verify-package", signed, "--anchor", anchor]);
  if (cli.status !== 0) throw new Error(`verify-package failed with status ${cli.status}`);
  const dist = best(process.execPath, [DIST, "verify-package", signed, "--anchor", anchor]);
  if (dist.status !== 0) throw new Error(`dist verify-package failed with status ${dist.status}`);
  const verifySeconds = Math.min(
    ...Array.from({ length: RUNS }, () => {
      const result = JSON.parse(spawnSync(process.execPath, [CHILD, signed, anchor], { encoding: "utf8" }).stdout) as { seconds: number; trusted: boolean };
      if (!result.trusted) throw new Error("the bench package did not verify");
      return result.seconds;
    }),
  );
  const ratio = verifySeconds / openssl.seconds;
  const processRatio = cli.seconds / openssl.seconds;
  const distRatio = dist.seconds / openssl.seconds;
  const rssMiB = cli.rssKiB / 1024;
  const lines = [
    `package                       ${(size / 1048576).toFixed(1)} MiB`,
    `openssl dgst -sha512          ${openssl.seconds.toFixed(3)} s (best of ${RUNS})`,
    `verification (verifyPackage)  ${verifySeconds.toFixed(3)} s  ratio ${ratio.toFixed(2)} (target <= 1.2) ${ratio <= 1.2 ? "ok" : "MISSED"}`,
    `pkgtrust verify-package       ${cli.seconds.toFixed(3)} s  ratio ${processRatio.toFixed(2)} (whole process, start-up included)`,
    `  the same, dist/pkgtrust.mjs  ${dist.seconds.toFixed(3)} s  ratio ${distRatio.toFixed(2)} (whole process; target <= 1.2) ${distRatio <= 1.2 ? "ok" : "MISSED"}`,
    `peak RSS of verify-package    ${rssMiB.toFixed(1)} MiB (target <= 100) ${rssMiB <= 100 ? "ok" : "MISSED"}`,
  ];
  return { lines, missed: ratio > 1.2 || rssMiB > 100 };
}
