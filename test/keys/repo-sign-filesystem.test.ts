/**
 * repo sign against what a real file system does to it: an immutable package, a full disk,
 * symlinks in and out of DIR, and one machine's share of the work (--files, --no-summary,
 * then repo summary). Runs as root (chattr, mount); each case says when the machine lacks
 * the facility.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { NOW } from "../fixtures/pki.js";
import { requireTool } from "../fixtures/requirements.js";
import { expectPkgInstallAccepts, fileName, readSummary, RepoKeys, summaryText, writePackages, writeSummaries, type PackageSpec } from "./repo-sign-fixture.js";

let keys: RepoKeys;
beforeAll(async () => {
  keys = await RepoKeys.create();
});
afterAll(() => keys?.cleanup());

const fresh = () => mkdtempSync(join(keys.pki.dir, "fs-"));
const sign = (dir: string, ...extra: string[]) => runCli([...keys.signArgs(dir), "--json", ...extra], { now: NOW });
const can = (command: string, args: string[]) => spawnSync(command, args, { stdio: "ignore" }).status === 0;

describe("repo sign on a real file system", () => {
  it.runIf(requireTool("chattr", "an immutable package"))("leaves an immutable package (chattr +i) as it is, reports it, and signs the others", async () => {
    const dir = fresh();
    await writePackages(dir, keys, [{ pkgname: "frozen-1.0" }, { pkgname: "free-1.0" }]);
    const frozen = join(dir, "frozen-1.0.tgz");
    const before = readFileSync(frozen);
    // rename(2) onto an immutable file fails with EPERM, even for root.
    expect(can("chattr", ["+i", frozen]), "chattr +i needs root and ext4/xfs/btrfs").toBe(true);
    try {
      const result = await sign(dir);
      expect(result.status).toBe(5);
      expect(result.json.failures).toEqual([expect.objectContaining({ file: "frozen-1.0.tgz", code: "REPO_PKG_WRITE", exit: 5 })]);
      expect(readFileSync(frozen).equals(before)).toBe(true);
      await expectPkgInstallAccepts(join(dir, "free-1.0.tgz"), keys.anchorPath);
      expect(readdirSync(dir).filter((n) => n.startsWith("."))).toEqual([]);
    } finally {
      execFileSync("chattr", ["-i", frozen]);
    }
  });

  it.runIf(requireTool("mount", "a full tmpfs"))("keeps every package whole on a full disk (a 1 MiB tmpfs) and finishes once there is room", async () => {
    const mountPoint = fresh();
    expect(can("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]), "mounting a tmpfs needs root").toBe(true);
    try {
      const source = fresh();
      const specs: PackageSpec[] = [{ pkgname: "big-1.0", payload: 450_000 }, { pkgname: "small-1.0" }];
      await writePackages(source, keys, specs);
      for (const spec of specs) copyFileSync(join(source, fileName(spec)), join(mountPoint, fileName(spec)));
      writeFileSync(join(mountPoint, "filler"), Buffer.alloc(1024 * 1024 - statSync(join(mountPoint, "big-1.0.tgz")).size - 200 * 1024));
      const before = readFileSync(join(mountPoint, "big-1.0.tgz"));
      const full = await sign(mountPoint);
      expect(full.status).toBe(5);
      expect(full.json.failures).toEqual([expect.objectContaining({ file: "big-1.0.tgz", code: "REPO_PKG_WRITE" })]);
      expect(readFileSync(join(mountPoint, "big-1.0.tgz")).equals(before)).toBe(true);
      expect(readdirSync(mountPoint).filter((n) => n.startsWith("."))).toEqual([]);
      execFileSync("rm", [join(mountPoint, "filler")]);
      const again = await sign(mountPoint);
      expect(again.json.counts).toMatchObject({ resigned: 1, skipped: 1, failed: 0 });
      for (const spec of specs) await expectPkgInstallAccepts(join(mountPoint, fileName(spec)), keys.anchorPath);
    } finally {
      execFileSync("umount", [mountPoint]);
    }
  });

  it("re-signs a read-only package (mode 0444) in place and keeps its mode", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "readonly-1.0" }, { pkgname: "owneronly-1.0", signed: false }];
    await writePackages(dir, keys, specs);
    chmodSync(join(dir, "readonly-1.0.tgz"), 0o444);
    chmodSync(join(dir, "owneronly-1.0.tgz"), 0o400);
    const result = await sign(dir);
    expect(result.status, result.stdout).toBe(0);
    expect(result.json.counts).toMatchObject({ resigned: 1, signed: 1, failed: 0 });
    expect(statSync(join(dir, "readonly-1.0.tgz")).mode & 0o777).toBe(0o444);
    expect(statSync(join(dir, "owneronly-1.0.tgz")).mode & 0o777).toBe(0o400);
    for (const spec of specs) await expectPkgInstallAccepts(join(dir, fileName(spec)), keys.anchorPath);
  });

  it.runIf(requireTool("mount", "a read-only mount"))("refuses a repository on a read-only mount before anything is written", async () => {
    const mountPoint = fresh();
    expect(can("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]), "mounting a tmpfs needs root").toBe(true);
    try {
      await writePackages(mountPoint, keys, [{ pkgname: "ro-1.0" }]);
      const before = readFileSync(join(mountPoint, "ro-1.0.tgz"));
      execFileSync("mount", ["-o", "remount,ro", mountPoint]);
      const result = await sign(mountPoint);
      expect(result.json.error?.code, result.stdout).toBe("CONFIG_READ_ONLY");
      expect(result.status).toBe(5);
      expect(readFileSync(join(mountPoint, "ro-1.0.tgz")).equals(before)).toBe(true);
      expect(readdirSync(mountPoint)).toEqual(["ro-1.0.tgz"]);
    } finally {
      execFileSync("umount", [mountPoint]);
    }
  });

  it("never follows a symlink out of DIR, and keeps a symlink to a package in DIR as an alias whose summary entry follows it", async () => {
    const outside = fresh();
    await writePackages(outside, keys, [{ pkgname: "elsewhere-1.0" }]);
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "target-1.0" }];
    await writePackages(dir, keys, specs);
    symlinkSync(join(outside, "elsewhere-1.0.tgz"), join(dir, "elsewhere-1.0.tgz"));
    symlinkSync("target-1.0.tgz", join(dir, "target-1.0-latest.tgz"));
    const before = readFileSync(join(outside, "elsewhere-1.0.tgz"));
    writeSummaries(dir, summaryText(dir, [...specs, { pkgname: "target-1.0", file: "target-1.0-latest.tgz" }]));
    const result = await sign(dir);
    expect(result.status).toBe(3);
    expect(result.json.failures).toEqual([expect.objectContaining({ file: "elsewhere-1.0.tgz", code: "REPO_PKG_SYMLINK_OUTSIDE" })]);
    expect(readFileSync(join(outside, "elsewhere-1.0.tgz")).equals(before)).toBe(true);
    expect(result.json.nonPackages).toEqual([{ file: "pkg_summary.gz", reason: "the package summary" }, { file: "target-1.0-latest.tgz", reason: "symlink to target-1.0.tgz, which is signed in its own right" }]);
    expect(result.json.counts).toMatchObject({ resigned: 1 });
    const size = statSync(join(dir, "target-1.0.tgz")).size;
    expect(readSummary(dir)).toContain(`FILE_NAME=target-1.0-latest.tgz\nFILE_SIZE=${size}\n`);
    expect(readSummary(dir)).toContain(`FILE_NAME=target-1.0.tgz\nFILE_SIZE=${size}\n`);
  });

  it.runIf(requireTool("bzip2", "repo summary of a pkg_summary.bz2"))("splits the work: shards sign their --files with --no-summary, then repo summary rewrites the summaries once", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = Array.from({ length: 6 }, (_, i) => ({ pkgname: `shard${i}-1.0`, ...(i === 5 ? { signed: false as const } : {}) }));
    await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs, { cksum: true }), { compressions: ["gz", "bz2"] });
    const summaryBefore = readFileSync(join(dir, "pkg_summary.gz"));
    const lists = [0, 1].map((k) => {
      const list = join(keys.pki.dir, `shard-${k}-${Math.random()}.txt`);
      writeFileSync(list, `# shard ${k}\n${specs.filter((_, i) => i % 2 === k).map(fileName).join("\n")}\n`);
      return list;
    });
    const shards = await Promise.all(lists.map((list) => sign(dir, "--files", list, "--no-summary")));
    for (const shard of shards) expect(shard.json.counts).toMatchObject({ packages: 3, failed: 0 });
    expect(readFileSync(join(dir, "pkg_summary.gz")).equals(summaryBefore)).toBe(true);
    const final = await runCli(["repo", "summary", dir, "--json"], { now: NOW });
    expect(final.status, final.stdout).toBe(0);
    expect(final.json.summaries).toEqual([
      expect.objectContaining({ file: "pkg_summary.gz", entries: 6, updated: 6, written: true }),
      expect.objectContaining({ file: "pkg_summary.bz2", entries: 6, updated: 6, written: true }),
    ]);
    const rewritten = summaryText(dir, specs, { cksum: true });
    expect(readSummary(dir, "gz")).toBe(rewritten);
    expect(readSummary(dir, "bz2")).toBe(rewritten);
    for (const spec of specs) await expectPkgInstallAccepts(join(dir, fileName(spec)), keys.anchorPath);
  });

  it("refuses a --files list that names a path, before anything is written", async () => {
    const dir = fresh();
    mkdirSync(join(dir, "sub"));
    const list = join(keys.pki.dir, "bad-list.txt");
    writeFileSync(list, "../escape.tgz\n");
    const result = await sign(dir, "--files", list);
    expect(result.json.error.code).toBe("REPO_FILES_LIST");
    expect(result.status).toBe(3);
  });
});
