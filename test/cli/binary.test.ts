import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupJsonSchema } from "../../src/cli/bootstrap-output.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { TestPki } from "../fixtures/pki.js";
import { runProcess } from "../fixtures/process.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";

const bin = fileURLToPath(new URL("../../bin/pkgtrust.mjs", import.meta.url));
let pki: TestPki;
let www: string;
let target: string;
let server: RepoServer;

beforeAll(async () => {
  expect(existsSync(new URL("../../build/src/cli/main.js", import.meta.url)), "run 'npm run build' first (npm test does)").toBe(true);
  pki = await TestPki.create();
  const trust = await standardPki(pki);
  www = mkdtempSync(path.join(tmpdir(), "pkgtrust-bin-"));
  await writeRepository(path.join(www, "repo"), { bundle: trust.ca.certPem + trust.build.certPem, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  target = path.join(www, "target");
  mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(target, DEFAULT_ANCHOR), trust.root.certPem);
  server = await startRepoServer({ root: www });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(www, { recursive: true, force: true });
});

/** The real binary, as sysinst or a fleet script runs it. */
const pkgtrust = (...args: string[]) => runProcess(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "", PKGTRUST_PKG_ADD: "none" } });

describe("the pkgtrust binary, unattended", () => {
  it("never prompts without a terminal: a missing --repo is a coded usage error", async () => {
    const result = await pkgtrust("setup", "--root", target, "--json");
    expect(result.status).toBe(EXIT.USAGE);
    expect(JSON.parse(result.stdout).error.code).toBe("BOOT_NEEDS_REPOSITORY");
  });

  it("sets up from flags and prints JSON matching the documented schema", async () => {
    const result = await pkgtrust("setup", "--repo", new URL("repo", server.httpUrl).href, "--root", target, "--json");
    expect(result.status, result.stderr).toBe(EXIT.OK);
    const parsed = setupJsonSchema.parse(JSON.parse(result.stdout));
    expect(parsed.ok && parsed.testInstall?.check).toBe("native");
  });

  it("exits with the fetch status and a one-line message with the next step on failure", async () => {
    const result = await pkgtrust("setup", "--repo", new URL("nothing-here/All/", server.httpUrl).href, "--root", target, "--no-test-install");
    expect(result.status).toBe(EXIT.FETCH);
    // The failure goes to stderr, progress to stdout (README: errors on standard error).
    expect(result.stderr).toMatch(/FAILED at "Fetch the key bundle": .* \[FETCH_NOT_FOUND\]/);
    expect(result.stderr).toMatch(/Nothing on the system was changed/);
    expect(result.stdout).toMatch(/^==> Fetch the key bundle/m);
    expect(result.stdout).not.toMatch(/FAILED|next:/);
  });

  it("rejects contradictory options", async () => {
    expect((await pkgtrust("setup", "--repo", "/x", "--test-package", "digest", "--no-test-install")).status).toBe(EXIT.USAGE);
  });
});
