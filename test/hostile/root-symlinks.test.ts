/**
 * Symlinks out of --root on the read side (issue 11 item 6). Inside sysinst, --root is the
 * target being installed; whatever it holds was put there by the sets or by whoever prepared
 * the disk. A link in it that leads to a host file must never make that file the anchor, the
 * recorded state or the configuration pkgtrust reads: every path under the root, read or
 * written, resolves inside the root or is refused (CONFIG_SYMLINK_OUTSIDE_ROOT, exit 5),
 * and nothing is changed. Links that stay inside the root are followed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { EXIT } from "../../src/errors.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { snapshotTree } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;
/** The look-alike's repository: its bundle and packages chain to a foreign root of the anchor's name. */
let rogue: string;
/** A host file holding that foreign root, outside every target. */
let foreignAnchor: string;

beforeAll(async () => {
  world = await makeWorld("root-symlinks");
  const { trust } = world;
  rogue = await world.tree("rogue", trust.rogueCa.certPem + trust.rogueBuild.certPem, [{ pkgname: "digest-20220214", signer: trust.rogueBuild, chain: [trust.rogueCa] }]);
  await world.tree("good", trust.ca.certPem + trust.build.certPem);
  foreignAnchor = path.join(world.www, "..", "host-anchor.pem");
  writeFileSync(foreignAnchor, trust.lookalike.certPem);
});
afterAll(() => world?.close());

const setup = (target: string, url = rogue) => world.cli(["setup", "--root", target, "--repo", url, "--non-interactive", "--json"]);

/** A target whose anchor file is replaced by a symlink to `link`. */
function anchorLinkedTo(link: string): string {
  const target = world.target({ config: "# admin\n" });
  rmSync(path.join(target, DEFAULT_ANCHOR));
  symlinkSync(link, path.join(target, DEFAULT_ANCHOR));
  return target;
}

async function expectRefused(target: string, run: Promise<Awaited<ReturnType<World["cli"]>>>): Promise<void> {
  const before = snapshotTree(target);
  const result = await run;
  expect(result.json.error?.code ?? result.json.code, result.stdout).toBe("CONFIG_SYMLINK_OUTSIDE_ROOT");
  expect(result.status).toBe(EXIT.CONFIG);
  expect(snapshotTree(target)).toEqual(before);
}

describe("the anchor file", () => {
  it("is not read through an absolute symlink to a host file: the foreign root never becomes the anchor", async () => {
    const target = anchorLinkedTo(foreignAnchor);
    await expectRefused(target, setup(target));
  });

  it("is not read through a relative symlink that climbs out of the root", async () => {
    const target = world.target({ config: "# admin\n" });
    const hostPath = path.join(target, DEFAULT_ANCHOR);
    rmSync(hostPath);
    symlinkSync(path.relative(path.dirname(hostPath), foreignAnchor), hostPath);
    await expectRefused(target, setup(target));
  });

  it("is not read through a directory above it that links out of the root", async () => {
    const target = world.target({ config: "# admin\n" });
    const hostDir = path.join(world.www, "..", `host-certs-${Date.now()}`);
    mkdirSync(hostDir);
    writeFileSync(path.join(hostDir, path.basename(DEFAULT_ANCHOR)), world.trust.lookalike.certPem);
    rmSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
    symlinkSync(hostDir, path.join(target, path.dirname(DEFAULT_ANCHOR)));
    await expectRefused(target, setup(target));
  });

  it("is refused by anchors check as well", async () => {
    const target = anchorLinkedTo(foreignAnchor);
    const catalogue = path.join(world.www, "..", "catalogue.json");
    writeFileSync(catalogue, JSON.stringify({ version: 1, anchors: [{ path: DEFAULT_ANCHOR, name: "pkgsrc CA", sha256: readCertificateFile(world.trust.lookalike.certPem, "lookalike").certificates[0]?.sha256 }] }));
    const result = await world.cli(["anchors", "check", "--root", target, "--catalogue", catalogue, "--json"]);
    expect(result.status, result.stdout).not.toBe(EXIT.OK);
    expect(result.stdout + result.stderr).toContain("CONFIG_SYMLINK_OUTSIDE_ROOT");
  });

  it("is read through a symlink that stays inside the root", async () => {
    const target = world.target({ config: "# admin\n" });
    const real = path.join(target, "etc/openssl/pkgsrc-ca.pem");
    mkdirSync(path.dirname(real), { recursive: true });
    renameSync(path.join(target, DEFAULT_ANCHOR), real);
    symlinkSync("../../../../etc/openssl/pkgsrc-ca.pem", path.join(target, DEFAULT_ANCHOR));
    const result = await setup(target, new URL("good/All/", world.server.httpUrl).href);
    expect(result.status, result.stdout).toBe(EXIT.OK);
  });

  it("that is a FIFO is refused at once instead of hanging the installer", async () => {
    const target = world.target({ config: "# admin\n" });
    rmSync(path.join(target, DEFAULT_ANCHOR));
    execFileSync("mkfifo", [path.join(target, DEFAULT_ANCHOR)]);
    const result = await setup(target);
    expect(result.json.error.code, result.stdout).toBe("CONFIG_NOT_A_FILE");
    // (no snapshot: reading the FIFO would hang the test itself)
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toBe("# admin\n");
  });
});

describe("files read after setup", () => {
  it("status does not read pkg_install.conf or state.json through a link to a host file", async () => {
    const good = new URL("good/All/", world.server.httpUrl).href;
    for (const file of ["etc/pkg_install.conf", "etc/pkgtrust/state.json"]) {
      const target = world.target({ config: "# admin\n" });
      expect((await setup(target, good)).status).toBe(EXIT.OK);
      const host = path.join(world.www, "..", `host-${path.basename(file)}-${Date.now()}`);
      renameSync(path.join(target, file), host);
      symlinkSync(host, path.join(target, file));
      await expectRefused(target, world.cli(["status", "--root", target, "--json"]));
    }
  });

  it("resolves every read through the root: readIfExists refuses what writablePath refuses", async () => {
    const target = anchorLinkedTo(foreignAnchor);
    const root = new TargetRoot(target);
    await expect(root.readIfExists(DEFAULT_ANCHOR)).rejects.toThrowWithCode("CONFIG_SYMLINK_OUTSIDE_ROOT");
    await expect(root.writablePath(DEFAULT_ANCHOR)).rejects.toThrowWithCode("CONFIG_SYMLINK_OUTSIDE_ROOT");
    expect(await root.exists(DEFAULT_ANCHOR)).toBe(false);
    expect(await root.readIfExists("/etc/no-such-file")).toBeUndefined();
  });

  it("a --root that is itself a symlink (a mount point's alias) judges links against its real path", async () => {
    const target = world.target({ config: "# admin\n" });
    const alias = `${target}-alias`;
    symlinkSync(target, alias);
    const result = await setup(alias, new URL("good/All/", world.server.httpUrl).href);
    expect(result.status, result.stdout).toBe(EXIT.OK);
  });
});

describe("files setup writes", () => {
  it("never writes the backup through a pkg_install.conf.pkgtrust-old that links to a host file", async () => {
    const target = world.target({ config: "# admin\n" });
    const host = path.join(world.www, "..", `host-backup-${Date.now()}`);
    writeFileSync(host, "host file\n");
    symlinkSync(host, path.join(target, "etc/pkg_install.conf.pkgtrust-old"));
    await expectRefused(target, setup(target, new URL("good/All/", world.server.httpUrl).href));
    expect(readFileSync(host, "utf8")).toBe("host file\n");
  });
});
