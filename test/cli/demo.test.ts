/**
 * pkgtrust demo teaches: it says where everything happens and that the scratch directory
 * goes away, shows the files it wrote as host paths, and ends with commands that work;
 * demo --serve keeps the repository up for the wizard until SIGTERM.
 */
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { runCli } from "../fixtures/cli.js";
import { runProcess } from "../fixtures/process.js";

const BIN = fileURLToPath(new URL("../../bin/pkgtrust.mjs", import.meta.url));

/** The argv of each `pkgtrust ...` command line the demo suggests. */
const suggested = (stdout: string) =>
  [...stdout.matchAll(/^ {2,4}pkgtrust (.+)$/gm)].map((match) => (match[1] as string).trim().split(/\s+/));

describe("pkgtrust demo", () => {
  it("says that its scratch directory is deleted, and shows host paths only", async () => {
    const result = await runCli(["demo"]);
    expect(result.status, result.stderr).toBe(EXIT.OK);
    const work = /happens in (\S+), deleted at the end/.exec(result.stdout)?.[1] ?? "";
    expect(work).toMatch(/pkgtrust-demo-/);
    expect(existsSync(work)).toBe(false);
    expect(result.stdout).toContain(`Removed ${work}; run 'pkgtrust demo --keep'`);
    // Every file line names the file where it is on this machine, inside the scratch root.
    const fileLines = result.stdout.split("\n").filter((line) => /^ {4}(created|updated|unchanged) /.test(line));
    expect(fileLines.length).toBeGreaterThan(0);
    for (const line of fileLines) expect(line).toContain(`${work}/target/`);
    expect(result.stdout).toContain(`What the demo wrote (host paths):\n  ${work}/target/`);
    expect(suggested(result.stdout).map((argv) => argv[0])).toEqual(["demo", "status", "verify-package"]);
  });

  it("with --keep keeps it, and the commands it suggests work as printed", async () => {
    const result = await runCli(["demo", "--keep"], { env: { PKGTRUST_PKG_ADD: "none" } });
    expect(result.status, result.stderr).toBe(EXIT.OK);
    const work = /happens in (\S+), kept afterwards/.exec(result.stdout)?.[1] ?? "";
    try {
      expect(existsSync(path.join(work, "target/etc/pkg_install.conf"))).toBe(true);
      expect(result.stdout).toContain(`Kept ${work} (--keep)`);
      const [, status, verify] = suggested(result.stdout);
      expect((await runCli(status ?? [])).status).toBe(EXIT.OK);
      const verdict = await runCli(verify ?? []);
      expect(verdict.status, verdict.stdout + verdict.stderr).toBe(EXIT.OK);
      expect(verdict.stdout).toMatch(/: trusted/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("runs to the end with no terminal and stdin closed, as CI runs npm run demo", async () => {
    const result = await runProcess(process.execPath, [BIN, "demo"], { env: { PATH: path.dirname(process.execPath) } });
    expect(result.status, result.stderr).toBe(EXIT.OK);
    expect(result.stdout).toContain("Try next");
    expect(result.stderr).toBe("");
  });
});

describe("pkgtrust demo --serve", () => {
  it("serves the repository for the setup command it prints, and stops cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [BIN, "demo", "--serve"], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: path.dirname(process.execPath) } });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    try {
      await expect.poll(() => stdout, { timeout: 30_000 }).toMatch(/Stopping removes/);
      const [setup] = suggested(stdout);
      expect(setup?.slice(0, 2)).toEqual(["setup", "--repo"]);
      const work = /Stopping removes (\S+) /.exec(stdout)?.[1] ?? "";
      const configured = await runCli([...(setup ?? []), "--non-interactive", "--json"], { env: { PKGTRUST_PKG_ADD: "none" } });
      expect(configured.status, configured.stdout).toBe(EXIT.OK);
      expect(configured.json.testInstall.trusted).toBe(true);
      child.kill("SIGTERM");
      expect(await exited).toBe(EXIT.OK);
      expect(stdout).toContain(`SIGTERM, the server is stopped; removed ${work}`);
      expect(existsSync(work)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
