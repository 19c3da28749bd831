/**
 * Files named on the command line: a directory, a missing file or a huge file is a coded
 * input error (exit 3) for every command that reads one, never a bug (exit 70); an output
 * that cannot be written is refused before any work, leaving everything as it was.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { MAX_INPUT_BYTES, readInputBytes } from "../../src/input-file.js";
import { PackageError } from "../../src/package/errors.js";
import { runCli } from "../fixtures/cli.js";
import { makeInnerPackage } from "../fixtures/packages.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { snapshotTree, standardPki } from "../fixtures/repository.js";

let pki: TestPki;
let cwd: string;
let trust: Awaited<ReturnType<typeof standardPki>>;

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  cwd = mkdtempSync(path.join(tmpdir(), "pkgtrust-paths-"));
  mkdirSync(path.join(cwd, "dir"));
  writeFileSync(path.join(cwd, "root.pem"), trust.root.certPem);
  writeFileSync(path.join(cwd, "root.key"), trust.root.keyPem);
  writeFileSync(path.join(cwd, "ca.pem"), trust.ca.certPem);
  writeFileSync(path.join(cwd, "build.pem"), trust.build.certPem);
  writeFileSync(path.join(cwd, "build.key"), trust.build.keyPem);
  writeFileSync(path.join(cwd, "bundle.pem"), trust.ca.certPem + trust.build.certPem);
  const inner = await makeInnerPackage(cwd, { pkgname: "demo-1.0" });
  writeFileSync(path.join(cwd, "demo-1.0.tgz"), inner.bytes);
  // Sparse: 300 MB of nothing on disk, the size the issue saw read whole.
  mkdirSync(path.join(cwd, "big"));
  writeFileSync(path.join(cwd, "big/huge.pem"), "");
  truncateSync(path.join(cwd, "big/huge.pem"), 300 * 1024 * 1024);
});
afterAll(async () => {
  await pki?.cleanup();
  rmSync(cwd, { recursive: true, force: true });
});

const cli = (...argv: string[]) => runCli([...argv, "--json"], { cwd, now: NOW });
const code = async (...argv: string[]) => {
  const result = await cli(...argv);
  return { status: result.status, code: result.json?.error?.code as string | undefined };
};
const sign = ["--key", "build.key", "--cert", "build.pem", "--chain", "ca.pem"];
const issuer = ["--ca-cert", "root.pem", "--ca-key", "root.key"];

describe("an input path that is a directory", () => {
  const cases: [string, string[], string][] = [
    ["verify-package's package", ["verify-package", "dir", "--anchor", "root.pem"], "PKG_UNREADABLE"],
    ["verify-package's --anchor", ["verify-package", "demo-1.0.tgz", "--anchor", "dir"], "PKG_UNREADABLE"],
    ["verify-package's --chain", ["verify-package", "demo-1.0.tgz", "--anchor", "root.pem", "--chain", "dir"], "PKG_UNREADABLE"],
    ["verify-package's --config", ["verify-package", "demo-1.0.tgz", "--config", "dir"], "PKG_UNREADABLE"],
    ["sign-package's input", ["sign-package", "dir", "out.tgz", ...sign], "SIGN_IO"],
    ["sign-package's --key", ["sign-package", "demo-1.0.tgz", "out.tgz", "--key", "dir", "--cert", "build.pem"], "SIGN_IO"],
    ["verify-bundle's bundle", ["verify-bundle", "dir", "--anchor", "root.pem"], "INPUT_UNREADABLE"],
    ["verify-bundle's --anchor", ["verify-bundle", "bundle.pem", "--anchor", "dir"], "INPUT_UNREADABLE"],
    ["setup's --answers", ["setup", "--answers", "dir"], "ANSWERS_UNREADABLE"],
    ["keys' --ca-cert", ["keys", "issue-signing", "--ca-cert", "dir", "--ca-key", "root.key", "--cn", "x", "--out-cert", "x.pem", "--out-key", "x.key"], "KEYS_INPUT_UNREADABLE"],
    ["keys revoke's --ca-key", ["keys", "revoke", "--ca-cert", "root.pem", "--ca-key", "dir", "--serial", "01", "--crl", "r.crl.pem"], "KEYS_INPUT_UNREADABLE"],
    ["bundle build's input", ["bundle", "build", "--anchor", "root.pem", "--out", "b.pem", "dir"], "BUNDLE_INPUT_UNREADABLE"],
    ["bundle lint's bundle", ["bundle", "lint", "dir", "--anchor", "root.pem"], "BUNDLE_INPUT_UNREADABLE"],
    ["bundle lint's --anchor", ["bundle", "lint", "bundle.pem", "--anchor", "dir"], "BUNDLE_INPUT_UNREADABLE"],
    ["anchors check's --catalogue", ["anchors", "check", "--catalogue", "dir"], "ANCHORS_CATALOGUE_UNREADABLE"],
  ];
  for (const [what, argv, expected] of cases) {
    it(`is refused with ${expected}, exit 3: ${what}`, async () => {
      expect(await code(...argv)).toEqual({ status: EXIT.INPUT, code: expected });
    });
  }

  it("is refused with CA_FILE_UNREADABLE, exit 3: setup's --ca-file", async () => {
    expect(await code("setup", "--repo", "file:///nonexistent", "--root", cwd, "--anchor", "/root.pem", "--ca-file", "dir")).toEqual({ status: EXIT.INPUT, code: "CA_FILE_UNREADABLE" });
  });

  it("and a missing file, the same code", async () => {
    expect(await code("verify-package", "missing.tgz", "--anchor", "root.pem")).toEqual({ status: EXIT.INPUT, code: "PKG_UNREADABLE" });
    expect(await code("sign-package", "missing.tgz", "out.tgz", ...sign)).toEqual({ status: EXIT.INPUT, code: "SIGN_IO" });
  });
});

describe("an input larger than the limit", () => {
  it("is refused unread (INPUT_TOO_LARGE) by verify-bundle, --anchor and bundle lint", async () => {
    expect(await code("verify-bundle", "big/huge.pem", "--anchor", "root.pem")).toEqual({ status: EXIT.INPUT, code: "INPUT_TOO_LARGE" });
    expect(await code("verify-bundle", "bundle.pem", "--anchor", "big/huge.pem")).toEqual({ status: EXIT.INPUT, code: "INPUT_TOO_LARGE" });
    expect(await code("verify-package", "demo-1.0.tgz", "--anchor", "big/huge.pem")).toEqual({ status: EXIT.INPUT, code: "INPUT_TOO_LARGE" });
    expect(await code("bundle", "lint", "big/huge.pem", "--anchor", "root.pem")).toEqual({ status: EXIT.INPUT, code: "INPUT_TOO_LARGE" });
  });

  it("is refused after the limit when it has no size to check first (a device)", async () => {
    expect(await code("verify-bundle", "/dev/zero", "--anchor", "root.pem")).toEqual({ status: EXIT.INPUT, code: "INPUT_TOO_LARGE" });
  });

  it("is read when it is exactly at the limit, refused one byte over", async () => {
    const unreadable = (message: string) => new PackageError("PKG_UNREADABLE", message);
    writeFileSync(path.join(cwd, "big/limit"), Buffer.alloc(MAX_INPUT_BYTES, "x"));
    expect((await readInputBytes("big/limit", cwd, unreadable)).length).toBe(MAX_INPUT_BYTES);
    writeFileSync(path.join(cwd, "big/over"), Buffer.alloc(MAX_INPUT_BYTES + 1, "x"));
    await expect(readInputBytes("big/over", cwd, unreadable)).rejects.toThrowWithCode("INPUT_TOO_LARGE");
  });
});

describe("an output path that cannot be written", () => {
  it("sign-package refuses a directory as OUT before reading anything, and leaves it alone", async () => {
    const before = snapshotTree(path.join(cwd, "dir"));
    expect(await code("sign-package", "demo-1.0.tgz", "dir", ...sign)).toEqual({ status: EXIT.USAGE, code: "OUTPUT_IS_DIRECTORY" });
    expect(snapshotTree(path.join(cwd, "dir"))).toEqual(before);
    expect(readdirSync(cwd).filter((name) => name.includes("pkgtrust-tmp"))).toEqual([]);
  });

  it("sign-package refuses an OUT whose directory does not exist", async () => {
    expect(await code("sign-package", "demo-1.0.tgz", "no/such/dir/out.tgz", ...sign)).toEqual({ status: EXIT.USAGE, code: "OUTPUT_DIR_UNUSABLE" });
  });

  it("bundle build, keys and keys revoke refuse a directory as their output", async () => {
    expect(await code("bundle", "build", "--anchor", "root.pem", "--out", "dir", "ca.pem", "build.pem")).toEqual({ status: EXIT.USAGE, code: "OUTPUT_IS_DIRECTORY" });
    expect(await code("keys", "init-ca", "--cn", "x", "--out-cert", "dir", "--out-key", "new.key")).toEqual({ status: EXIT.USAGE, code: "OUTPUT_IS_DIRECTORY" });
    expect(await code("keys", "issue-signing", ...issuer, "--cn", "x", "--out-cert", "x.pem", "--out-key", "nowhere/x.key")).toEqual({ status: EXIT.USAGE, code: "OUTPUT_DIR_UNUSABLE" });
    expect(await code("keys", "revoke", ...issuer, "--serial", "01", "--crl", "dir")).toEqual({ status: EXIT.USAGE, code: "OUTPUT_IS_DIRECTORY" });
    expect(await code("keys", "crl", ...issuer, "--crl", "nowhere/root.crl.pem")).toEqual({ status: EXIT.USAGE, code: "OUTPUT_DIR_UNUSABLE" });
    expect(readdirSync(cwd)).not.toContain("new.key");
  });
});
