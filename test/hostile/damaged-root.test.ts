/**
 * A damaged target root: files the writer cannot replace (immutable or append-only, as
 * chattr sets them here and chflags on NetBSD; we run as root, so permission bits alone stop
 * nothing), a directory that cannot take new entries, a full file system. The report must
 * name the first cause with its own code, put back exactly what was changed, and say what
 * could not be put back; the next run finishes the job once the cause is gone.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testFetcher } from "../fixtures/fetcher.js";
import type { BootstrapEvent } from "../../src/bootstrap/events.js";
import { runSetup } from "../../src/bootstrap/setup.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { EXIT } from "../../src/errors.js";
import { NOW } from "../fixtures/pki.js";
import { snapshotTree } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;
let good: string;
let tampered: string;
const flagged: string[] = [];

/** Whether a command succeeds here. */
function can(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// What this machine can do to a file system: chattr needs ext4 (or another file system with
// the flags) and CAP_LINUX_IMMUTABLE; a tmpfs mount needs CAP_SYS_ADMIN. Without them the
// tests below are skipped, and vitest lists them as skipped.
const probe = mkdtempSync(path.join(tmpdir(), "pkgtrust-probe-"));
writeFileSync(path.join(probe, "f"), "x");
const canChattr = can("chattr", ["+i", path.join(probe, "f")]) && can("chattr", ["-i", path.join(probe, "f")]);
const canMount = can("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) && can("umount", [probe]);
rmSync(probe, { recursive: true, force: true });

function chattr(flag: "+i" | "+a", file: string): void {
  execFileSync("chattr", [flag, file]);
  flagged.push(file);
}

beforeAll(async () => {
  world = await makeWorld("damaged");
  good = await world.tree("good", world.trust.ca.certPem + world.trust.build.certPem);
  tampered = await world.tree("tampered", world.trust.ca.certPem + world.trust.build.certPem, [
    { pkgname: "digest-20220214", signer: world.trust.build, chain: [world.trust.ca], tamper: true },
  ]);
});
afterEach(() => {
  for (const file of flagged.splice(0)) can("chattr", ["-i", "-a", file]);
});
afterAll(() => world?.close());

const setupJson = (target: string, url = good) => world.cli(["setup", "--root", target, "--repo", url, "--json"]);

describe("files the writer cannot replace", () => {
  it.skipIf(!canChattr).each(["+i", "+a"] as const)("reports EPERM on a pkg_install.conf with chattr %s, and restores only what it changed", async (flag) => {
    const target = world.target({ config: "# admin\n", pkgin: true });
    chattr(flag, path.join(target, "etc/pkg_install.conf"));
    const before = snapshotTree(target);
    const result = await setupJson(target);
    expect(result.json.error.code, result.stdout).toBe("CONFIG_PERMISSION");
    expect(result.json.error.detail.errno).toBe("EPERM");
    expect(result.status).toBe(EXIT.CONFIG);
    expect(result.json.failure).toMatchObject({ step: "write", unchanged: true, notRestored: [] });
    expect(snapshotTree(target)).toEqual(before);
  });

  it.skipIf(!canChattr)("reports an immutable /etc as a configuration error (exit 5), not as a bug", async () => {
    const target = world.target({ config: "# admin\n" });
    chattr("+i", path.join(target, "etc"));
    const before = snapshotTree(target);
    const result = await setupJson(target);
    expect(result.json.error.code, result.stdout).toBe("CONFIG_PERMISSION");
    expect(result.status).toBe(EXIT.CONFIG);
    expect(result.json.failure.unchanged).toBe(true);
    expect(snapshotTree(target)).toEqual(before);
  });

  it.skipIf(!canChattr)("names the file a failed rollback could not put back, and the next run finishes it", async () => {
    const target = world.target({ config: "# admin\n" });
    const before = snapshotTree(target);
    // While the test package downloads, the freshly written anchors file becomes immutable.
    let anchors = "";
    world.server.routes.set("/tampered/All/digest-20220214.tgz", (_request, _response, context) => {
      const dir = path.join(target, "etc/pkgtrust/repositories");
      anchors = path.join(dir, readdirSync(dir)[0] ?? "", "anchors.pem");
      chattr("+i", anchors);
      return context.serveFile();
    });
    const events: BootstrapEvent[] = [];
    const outcome = await runSetup(
      { repository: tampered, root: new TargetRoot(target), anchorPath: DEFAULT_ANCHOR, testInstall: true },
      { fetcher: testFetcher(), now: NOW, cwd: world.www, emit: (event) => events.push(event) },
    );
    world.server.routes.delete("/tampered/All/digest-20220214.tgz");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    // The first cause stays the error; the rollback failure is reported beside it.
    expect(outcome.error.code).toBe("BOOT_TEST_INSTALL_FAILED");
    const anchorsTarget = `/${path.relative(target, anchors)}`;
    expect(outcome.failure.unchanged).toBe(false);
    expect(outcome.failure.notRestored).toEqual([expect.objectContaining({ path: anchorsTarget, code: "CONFIG_PERMISSION" })]);
    const rolledBack = events.find((event) => event.type === "rolled-back");
    expect(rolledBack).toMatchObject({ files: expect.arrayContaining(["/etc/pkg_install.conf"]), notRestored: [expect.objectContaining({ path: anchorsTarget })] });
    expect(rolledBack?.type === "rolled-back" && rolledBack.files).not.toContain(anchorsTarget);
    // While the file stays immutable, the next run refuses to build on the half-restored set.
    const blocked = await world.cli(["status", "--root", target, "--json"]);
    expect(blocked.json.error.code).toBe("CONFIG_ROLLBACK_FAILED");
    execFileSync("chattr", ["-i", anchors]);
    const status = await world.cli(["status", "--root", target, "--json"]);
    expect(status.json.error.code).toBe("CONFIG_NOT_CONFIGURED");
    expect(snapshotTree(target)).toEqual(before);
  });
});

describe("a full file system", () => {
  it.skipIf(!canMount)("fails with CONFIG_NO_SPACE and changes nothing, wherever the space runs out", async () => {
    const mount = mkdtempSync(path.join(world.www, "tmpfs-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
    try {
      const outcomes: string[] = [];
      let rolledBackMidway = false;
      for (let free = 0; free <= 10; free++) {
        const target = path.join(mount, `t${free}`);
        mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
        writeFileSync(path.join(target, DEFAULT_ANCHOR), world.trust.root.certPem);
        mkdirSync(path.join(target, "etc"), { recursive: true });
        writeFileSync(path.join(target, "etc/pkg_install.conf"), "# admin\n");
        // Fill the file system up to `free` pages of 4 KiB (a small file takes one page on tmpfs).
        const { bavail, bsize } = statfsSync(mount);
        writeFileSync(path.join(mount, "filler"), Buffer.alloc(Math.max(0, bavail - free) * bsize));
        const before = snapshotTree(target);
        const events: BootstrapEvent[] = [];
        const outcome = await runSetup(
          { repository: good, root: new TargetRoot(target), anchorPath: DEFAULT_ANCHOR, testInstall: false },
          { fetcher: testFetcher(), now: NOW, cwd: world.www, emit: (event) => events.push(event) },
        );
        rmSync(path.join(mount, "filler"));
        outcomes.push(outcome.ok ? "ok" : outcome.error.code);
        if (!outcome.ok) {
          expect(outcome.error.code, `${free} pages free`).toBe("CONFIG_NO_SPACE");
          expect(outcome.failure.unchanged).toBe(true);
          expect(snapshotTree(target), `${free} pages free`).toEqual(before);
          rolledBackMidway ||= events.some((event) => event.type === "rolled-back" && event.files.length > 0);
        }
        rmSync(target, { recursive: true, force: true });
      }
      expect(outcomes[0]).toBe("CONFIG_NO_SPACE");
      expect(outcomes.at(-1)).toBe("ok");
      expect(rolledBackMidway, outcomes.join(" ")).toBe(true);
    } finally {
      execFileSync("umount", [mount]);
    }
  });
});
