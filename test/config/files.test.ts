import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock } from "../../src/config/lock.js";
import { interruptedRunLeftovers, settleInterruptedRun } from "../../src/config/recovery.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { BACKUP_SUFFIX, FileTransaction } from "../../src/config/transaction.js";
import { snapshotTree } from "../fixtures/repository.js";

let base: string;
let root: TargetRoot;
const bytes = (s: string) => Buffer.from(s);
const JOURNAL = "/etc/pkgtrust/journal.json";

beforeEach(async () => {
  base = await mkdtemp(path.join(tmpdir(), "pkgtrust-files-"));
  await mkdir(path.join(base, "target/etc"), { recursive: true });
  root = new TargetRoot(path.join(base, "target"));
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe("the target root", () => {
  it("maps target paths under the root and refuses relative ones", () => {
    expect(root.hostPath("/etc/pkg_install.conf")).toBe(path.join(base, "target/etc/pkg_install.conf"));
    expect(() => root.hostPath("etc/x")).toThrowWithCode("CONFIG_NOT_ABSOLUTE");
  });

  it("refuses to write through a symlink that points outside the root", async () => {
    await writeFile(path.join(base, "host.conf"), "host file\n");
    await symlink(path.join(base, "host.conf"), path.join(base, "target/etc/pkg_install.conf"));
    await expect(root.writablePath("/etc/pkg_install.conf")).rejects.toThrowWithCode("CONFIG_SYMLINK_OUTSIDE_ROOT");
    await symlink("../../host.conf", path.join(base, "target/etc/relative.conf"));
    await expect(root.writablePath("/etc/relative.conf")).rejects.toThrowWithCode("CONFIG_SYMLINK_OUTSIDE_ROOT");
  });

  it("refuses a directory symlink that leads outside the root", async () => {
    await mkdir(path.join(base, "elsewhere"));
    await symlink(path.join(base, "elsewhere"), path.join(base, "target/usr"));
    await expect(root.writablePath("/usr/pkg/etc/pkg_install.conf")).rejects.toThrowWithCode("CONFIG_SYMLINK_OUTSIDE_ROOT");
  });

  it("follows a symlink that stays inside the root and keeps the link", async () => {
    await writeFile(path.join(base, "target/etc/real.conf"), "x\n");
    await symlink("real.conf", path.join(base, "target/etc/pkg_install.conf"));
    const transaction = new FileTransaction(root, JOURNAL);
    await transaction.apply([{ targetPath: "/etc/pkg_install.conf", content: bytes("y\n") }]);
    expect(await readlink(path.join(base, "target/etc/pkg_install.conf"))).toBe("real.conf");
    expect(await readFile(path.join(base, "target/etc/real.conf"), "utf8")).toBe("y\n");
  });

  it("reports a missing target root", async () => {
    const missing = new TargetRoot(path.join(base, "nowhere"));
    await expect(missing.writablePath("/etc/pkg_install.conf")).rejects.toThrowWithCode("CONFIG_ROOT_MISSING");
  });
});

describe("file transactions", () => {
  it("creates, updates with a backup, and leaves identical files untouched", async () => {
    const conf = path.join(base, "target/etc/pkg_install.conf");
    await writeFile(conf, "old\n", { mode: 0o600 });
    const transaction = new FileTransaction(root, JOURNAL);
    const outcomes = await transaction.apply([
      { targetPath: "/etc/pkg_install.conf", content: bytes("new\n"), backup: true },
      { targetPath: "/etc/pkgtrust/repositories/r/anchors.pem", content: bytes("pem\n") },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["updated", "created"]);
    expect(await readFile(conf + BACKUP_SUFFIX, "utf8")).toBe("old\n");
    expect((await stat(conf)).mode & 0o777).toBe(0o600);
    const before = await stat(conf);
    const again = await new FileTransaction(root, JOURNAL).apply([{ targetPath: "/etc/pkg_install.conf", content: bytes("new\n"), backup: true }]);
    expect(again[0]?.status).toBe("unchanged");
    expect((await stat(conf)).mtimeMs).toBe(before.mtimeMs);
  });

  it("rolls every file back to its exact bytes and removes what it created", async () => {
    const conf = path.join(base, "target/etc/pkg_install.conf");
    await writeFile(conf, "old\r\nbytes");
    const transaction = new FileTransaction(root, JOURNAL);
    await transaction.apply([
      { targetPath: "/etc/pkg_install.conf", content: bytes("new\n"), backup: true },
      { targetPath: "/etc/pkgtrust/repositories/r/anchors.pem", content: bytes("pem\n") },
    ]);
    await transaction.rollback();
    expect(await readFile(conf, "utf8")).toBe("old\r\nbytes");
    await expect(lstat(conf + BACKUP_SUFFIX)).rejects.toThrow();
    await expect(lstat(path.join(base, "target/etc/pkgtrust"))).rejects.toThrow();
  });

  it("rolls back by itself when a later change fails", async () => {
    const conf = path.join(base, "target/etc/pkg_install.conf");
    await writeFile(conf, "old\n");
    await mkdir(path.join(base, "target/etc/blocked"));
    const transaction = new FileTransaction(root, JOURNAL);
    await expect(
      transaction.apply([
        { targetPath: "/etc/pkg_install.conf", content: bytes("new\n") },
        { targetPath: "/etc/blocked", content: bytes("not a directory\n") },
      ]),
    ).rejects.toThrowWithCode("CONFIG_NOT_A_FILE");
    expect(await readFile(conf, "utf8")).toBe("old\n");
  });
});

describe("rollback reports", () => {
  const conf = () => path.join(base, "target/etc/pkg_install.conf");
  // A name the file system takes, but not with the temporary file's longer name beside it (ENAMETOOLONG).
  const unwritable = `/etc/${"x".repeat(230)}`;

  it("puts back exactly what it changed, reports it, and never lists a file it did not get to", async () => {
    await writeFile(conf(), "old\n");
    const transaction = new FileTransaction(root, JOURNAL);
    await expect(
      transaction.apply([
        { targetPath: "/etc/pkg_install.conf", content: bytes("new\n"), backup: true },
        { targetPath: unwritable, content: bytes("never\n") },
      ]),
    ).rejects.toThrowWithCode("CONFIG_WRITE");
    const report = await transaction.rollback();
    expect(report).toEqual({ restored: ["/etc/pkg_install.conf", `/etc/pkg_install.conf${BACKUP_SUFFIX}`], notRestored: [] });
    expect(await transaction.rollback(), "a second rollback reports the same").toBe(report);
    expect(await readFile(conf(), "utf8")).toBe("old\n");
    expect(await readdir(path.join(base, "target/etc"))).toEqual(["pkg_install.conf"]);
  });

  it("leaves a file another program replaced meanwhile, says so, and keeps the journal for the next run", async () => {
    await writeFile(conf(), "old\n");
    const transaction = new FileTransaction(root, JOURNAL);
    await transaction.apply([{ targetPath: "/etc/pkg_install.conf", content: bytes("new\n") }]);
    await writeFile(conf(), "the admin's edit\n");
    const report = await transaction.rollback();
    expect(report.notRestored).toEqual([expect.objectContaining({ path: "/etc/pkg_install.conf", code: "CONFIG_ROLLBACK_FAILED" })]);
    expect(await readFile(conf(), "utf8")).toBe("the admin's edit\n");
    expect(await readdir(path.join(base, "target/etc/pkgtrust"))).toEqual(["journal.json"]);
  });
});

describe("recovery of a killed run", () => {
  const conf = () => path.join(base, "target/etc/pkg_install.conf");

  it("rolls back a transaction left without its commit, from the journal alone", async () => {
    await writeFile(conf(), "old\n");
    const before = snapshotTree(path.join(base, "target"));
    // A run that wrote everything and was killed before its commit (and before any rollback).
    await new FileTransaction(root, JOURNAL).apply([
      { targetPath: "/etc/pkg_install.conf", content: bytes("new\n"), backup: true },
      { targetPath: "/etc/pkgtrust/repositories/r/anchors.pem", content: bytes("pem\n") },
      { targetPath: "/etc/pkgtrust/state.json", content: bytes("{}\n") },
    ]);
    expect(await interruptedRunLeftovers(root, "/etc/pkg_install.conf")).toBe("journal");
    const recovery = await settleInterruptedRun(root, "/etc/pkg_install.conf");
    expect(recovery?.rolledBack?.pid).toBe(process.pid);
    expect(recovery?.rolledBack?.report.restored).toEqual(["/etc/pkgtrust/state.json", "/etc/pkgtrust/repositories/r/anchors.pem", "/etc/pkg_install.conf", `/etc/pkg_install.conf${BACKUP_SUFFIX}`]);
    expect(snapshotTree(path.join(base, "target"))).toEqual(before);
    expect(await settleInterruptedRun(root, "/etc/pkg_install.conf"), "nothing left to do").toBeUndefined();
  });

  it("removes the temporary files of dead runs, and keeps those of live ones", async () => {
    const dead = path.join(base, "target/etc/.pkg_install.conf.pkgtrust-tmp-999999999-0badf00d");
    const live = path.join(base, "target/etc/.pkg_install.conf.pkgtrust-tmp-" + process.ppid + "-0badf00d");
    await writeFile(dead, "half");
    await writeFile(live, "half");
    const recovery = await settleInterruptedRun(root, "/etc/pkg_install.conf");
    expect(recovery?.removed).toEqual(["/etc/.pkg_install.conf.pkgtrust-tmp-999999999-0badf00d"]);
    await expect(lstat(dead)).rejects.toThrow();
    expect(await readFile(live, "utf8")).toBe("half");
  });

  it("removes a state directory a killed run was still building, and never leaves one empty", async () => {
    const building = path.join(base, "target/etc/.pkgtrust.pkgtrust-tmp-999999999-0badf00d");
    await mkdir(building);
    await writeFile(path.join(building, ".lock"), "999999999\n");
    expect((await settleInterruptedRun(root, "/etc/pkg_install.conf"))?.removed).toEqual(["/etc/.pkgtrust.pkgtrust-tmp-999999999-0badf00d"]);
    expect(await readdir(path.join(base, "target/etc"))).toEqual([]);
    // The directory of a new lock appears with the lock in it.
    const lock = await acquireLock(path.join(base, "target/etc/pkgtrust/.lock"));
    expect(await readdir(path.join(base, "target/etc/pkgtrust"))).toEqual([".lock"]);
    await lock.release();
    expect(await readdir(path.join(base, "target/etc"))).toEqual([]);
  });

  it("refuses a journal it cannot read, rather than guess", async () => {
    await mkdir(path.join(base, "target/etc/pkgtrust"), { recursive: true });
    await writeFile(path.join(base, "target/etc/pkgtrust/journal.json"), "{ not json");
    await expect(settleInterruptedRun(root, "/etc/pkg_install.conf")).rejects.toThrowWithCode("CONFIG_JOURNAL_INVALID");
  });
});

describe("the lock", () => {
  it("refuses a second holder and takes over a stale lock", async () => {
    const lockPath = path.join(base, "target/etc/pkgtrust/.lock");
    const lock = await acquireLock(lockPath);
    await expect(acquireLock(lockPath)).rejects.toThrowWithCode("CONFIG_LOCKED");
    await lock.release();
    await expect(lstat(path.dirname(lockPath)), "the directory made for the lock goes with it").rejects.toThrow();
    await mkdir(path.dirname(lockPath), { recursive: true });
    await writeFile(lockPath, "999999999\n");
    const taken = await acquireLock(lockPath);
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(process.pid));
    await taken.release();
  });
});
