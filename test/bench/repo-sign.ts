/**
 * Bench section: `pkgtrust repo sign` as a whole process.
 *   1. 300 small packages: against one `pkgtrust sign-package` process per package, the
 *      shell loop build-admins.md used to give (target <= 0.1x).
 *   2. A generated repository of 2,000 packages, about 1 GiB, sizes spread like a real one
 *      (log-normal around 150 KB, a few of tens of MiB): packages/s and MB/s against the
 *      floor of reading and writing the same bytes, `cat` of every package into a new file
 *      then `sync` (repo sign fsyncs every file; target <= 2x). The floor without sync, with
 *      one `cat` per file, and Node copying, fsyncing and renaming each file as repo sign
 *      replaces it (no hashing or signing) are printed too.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomFillSync } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg as loadAverage } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { signPackage } from "../../src/keys/sign-package.js";
import { RepoKeys, summaryText, writeSummaries, type PackageSpec } from "../fixtures/repo-sign.js";
import { CLI, measure, type SectionResult } from "./package.js";

const SMALL = 300;
const LARGE = 2000;
const LARGE_BYTES = 1024 * 1024 * 1024;
const PAIRS = 3;
const ATOMIC_COPY_CHILD = fileURLToPath(new URL("./atomic-copy-child.js", import.meta.url));

async function tarOf(pkgname: string, payload: Buffer): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: "+CONTENTS", mtime: new Date(0) }, Buffer.from(`@name ${pkgname}\n@cwd /usr/pkg\nshare/${pkgname}/data\n`));
  tar.entry({ name: `share/${pkgname}/data`, mtime: new Date(0) }, payload);
  tar.finalize();
  const parts: Buffer[] = [];
  for await (const part of tar) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Log-normal sizes (median 150 KB, sigma 1.6), three packages of 40-70 MiB, scaled to `total` bytes. */
function sizes(count: number, total: number): number[] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  const raw = Array.from({ length: count }, (_, i) => (i < 3 ? (40 + 15 * i) * 1024 * 1024 : Math.min(32 * 1024 * 1024, 150_000 * Math.exp(1.6 * normal()))));
  const scale = total / raw.reduce((a, b) => a + b, 0);
  return raw.map((size) => Math.max(200, Math.round(size * scale)));
}

/** Writes `count` packages signed by the old certificate into `dir`; every tenth inner package bzip2 or xz, in turn. */
async function writeRepository(dir: string, keys: RepoKeys, sizeList: readonly number[], compressions: readonly ("bzip2" | "xz")[]): Promise<PackageSpec[]> {
  const scratch = mkdtempSync(join(keys.pki.dir, "bench-inner-"));
  const specs: PackageSpec[] = [];
  const payload = Buffer.allocUnsafe(Math.max(...sizeList));
  for (const [i, size] of sizeList.entries()) {
    // Short names: GNU ar (the old loop's extractor) cuts BSD long names.
    const pkgname = `b${i}-1.${i % 10}`;
    // Incompressible, so that the package is as large as its payload; stored, so that making it is quick.
    const tar = await tarOf(pkgname, randomFillSync(payload.subarray(0, size)));
    const compression = compressions.length > 0 && i % 10 === 9 ? compressions[Math.floor(i / 10) % compressions.length] : undefined;
    const inner = compression ? execFileSync(compression, ["-1", "-c"], { input: tar, maxBuffer: 1 << 30 }) : gzipSync(tar, { level: 0 });
    const input = join(scratch, `${pkgname}.tgz`);
    writeFileSync(input, inner);
    await signPackage({ input, output: join(dir, `${pkgname}.tgz`), keyPem: keys.old.keyPem, certPem: keys.old.certPem, chainPem: keys.ca.certPem });
    rmSync(input);
    specs.push({ pkgname });
  }
  rmSync(scratch, { recursive: true, force: true });
  return specs;
}

function seconds(command: string, args: string[], options: { cwd?: string } = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: "ignore", ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with status ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Packages repo sign has in flight: four per job thread, a thread per core. */
const IN_FLIGHT = 4 * availableParallelism();

/** The replacement step alone, in Node (atomic-copy-child.ts): the same bytes renamed over every package. */
function atomicCopy(dir: string): number {
  const run = spawnSync(process.execPath, [ATOMIC_COPY_CHILD, dir, String(IN_FLIGHT)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`the atomic copy failed with status ${run.status}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { seconds: number }).seconds;
}

function repoSign(keys: RepoKeys, dir: string, extra: readonly string[] = []): { seconds: number; rssKiB: number } {
  const run = measure(process.execPath, [CLI, ...keys.signArgs(dir), "--json", ...extra]);
  if (run.status !== 0) throw new Error(`repo sign failed with status ${run.status}`);
  return run;
}

async function smallSection(root: string, keys: RepoKeys): Promise<{ lines: string[]; missed: boolean }> {
  const dir = join(root, "small");
  mkdirSync(dir);
  const specs = await writeRepository(dir, keys, Array.from({ length: SMALL }, () => 2000 + (randomBytes(2).readUInt16LE() % 30000)), []);
  const copy = join(root, "small-copy");
  cpSync(dir, copy, { recursive: true });
  const ours = repoSign(keys, dir);
  // The old way: one process per package, re-signing from the inner package as build-admins.md showed.
  const script = [
    "set -e",
    'mkdir -p "$2/resign"',
    'for pkg in "$1"/*.tgz; do',
    '  name=${pkg##*/}',
    '  (cd "$2/resign" && ar x "$pkg" "$name")',
    `  "${process.execPath}" "${CLI}" sign-package "$2/resign/$name" "$pkg" --key "${keys.next.keyPath}" --cert "${keys.next.certPath}" --chain "${keys.chainPath}" > /dev/null`,
    '  rm "$2/resign/$name"',
    "done",
  ].join("\n");
  const loop = seconds("sh", ["-c", script, "sh", copy, root]);
  const ratio = ours.seconds / loop;
  return {
    lines: [
      `${specs.length} small packages: repo sign ${ours.seconds.toFixed(2)} s, one sign-package per package ${loop.toFixed(1)} s: ratio ${ratio.toFixed(3)} (target <= 0.1) ${ratio <= 0.1 ? "ok" : "MISSED"}`,
    ],
    missed: ratio > 0.1,
  };
}

async function largeSection(root: string, keys: RepoKeys): Promise<{ lines: string[]; missed: boolean }> {
  const compressions = (["bzip2", "xz"] as const).filter((c) => spawnSync(c, ["--help"], { stdio: "ignore" }).status === 0);
  const dir = join(root, "large");
  mkdirSync(dir);
  process.stdout.write(`making ${LARGE} packages of about 1 GiB in all ...\n`);
  const specs = await writeRepository(dir, keys, sizes(LARGE, LARGE_BYTES), compressions);
  writeSummaries(dir, summaryText(dir, specs), { compressions: ["gz", "xz"] });
  const files = readdirSync(dir).filter((n) => n.endsWith(".tgz"));
  const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const largest = Math.max(...files.map((f) => statSync(join(dir, f)).size));
  // Warm the page cache; both sides then read from memory and write to the same disk.
  execFileSync("sh", ["-c", 'cat ./*.tgz > /dev/null'], { cwd: dir });
  const out = join(root, "floor");
  mkdirSync(out);
  const cat = seconds("sh", ["-c", `cat ./*.tgz > "${out}/all"`], { cwd: dir });
  rmSync(join(out, "all"));
  const perFile = seconds("sh", ["-c", `for f in ./*.tgz; do cat "$f" > "${out}/$f"; done && sync`], { cwd: dir });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  // Paired, interleaved runs (the machine is shared): floor then repo sign, PAIRS times; the
  // ratio is the median of the pairs' ratios. The first run re-signs from the old signer, the
  // others with --force (the same work: every package verified and re-signed).
  const pairs: { floor: number; atomic: number; ours: { seconds: number; rssKiB: number }; load: number }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    execFileSync("sync");
    const load = loadAverage()[0] ?? 0;
    const floor = seconds("sh", ["-c", `cat ./*.tgz > "${out}/all" && sync`], { cwd: dir });
    rmSync(join(out, "all"));
    execFileSync("sync");
    const atomic = atomicCopy(dir);
    pairs.push({ floor, atomic, ours: repoSign(keys, dir, i > 0 ? ["--force"] : []), load });
  }
  rmSync(out, { recursive: true, force: true });
  const median = <T>(list: readonly T[], key: (t: T) => number) => [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)] as T;
  const middle = median(pairs, (p) => p.ours.seconds / p.floor);
  const ratio = middle.ours.seconds / middle.floor;
  const mb = bytes / 1e6;
  const line = (label: string, s: number) => `${label.padEnd(48)}${s.toFixed(2)} s  ${(mb / s).toFixed(0)} MB/s`;
  return {
    lines: [
      `${files.length} packages, ${(bytes / 2 ** 20).toFixed(0)} MiB (largest ${(largest / 2 ** 20).toFixed(1)} MiB; bzip2/xz inner packages: ${compressions.length ? compressions.join(", ") : "none, no bzip2/xz command here"})`,
      `${PAIRS} pairs (floor, repo sign), 1-minute load average at each: ${pairs.map((p) => p.load.toFixed(1)).join(", ")} on ${availableParallelism()} cores${Math.max(...pairs.map((p) => p.load)) > availableParallelism() ? ": taken under load, the CPU-bound side suffers most" : ""}`,
      ...pairs.map((p, i) => `  pair ${i + 1}: floor ${p.floor.toFixed(2)} s, repo sign ${p.ours.seconds.toFixed(2)} s, ratio ${(p.ours.seconds / p.floor).toFixed(2)}`),
      line("floor: cat all > one file; sync (median pair)", middle.floor),
      line("cat all > one file (no sync)", cat),
      line("one cat per file; sync", perFile),
      line(`Node: copy, fsync, rename per file, ${IN_FLIGHT} in flight`, middle.atomic),
      `${line("repo sign (fsync per file, median pair)", middle.ours.seconds)}  ${(files.length / middle.ours.seconds).toFixed(0)} packages/s  ratio ${ratio.toFixed(2)} (target <= 2) ${ratio <= 2 ? "ok" : "MISSED"}`,
      `${"  repo sign against that copy (median pair)".padEnd(48)}${(middle.ours.seconds / middle.atomic).toFixed(2)}x: the rest is CPU (verify, sign, parse)`,
      `${"peak RSS of repo sign".padEnd(48)}${(Math.max(...pairs.map((p) => p.ours.rssKiB)) / 1024).toFixed(1)} MiB`,
    ],
    missed: ratio > 2,
  };
}

export async function repoSignSection(root: string, parts: { readonly small: boolean }): Promise<SectionResult> {
  const keys = await RepoKeys.create();
  const dir = mkdtempSync(join(root, "repo-sign-"));
  try {
    const small = parts.small ? await smallSection(dir, keys) : { lines: [], missed: false };
    const large = await largeSection(dir, keys);
    return { lines: [...small.lines, ...large.lines], missed: small.missed || large.missed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await keys.cleanup();
  }
}
