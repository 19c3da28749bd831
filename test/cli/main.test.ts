import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/main.js";
import { EXIT } from "../../src/errors.js";

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  const status = await run({ argv, stdout, stderr, env, cwd: process.cwd(), isTTY: false, now: new Date() });
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe("the command line", () => {
  it("prints the version", async () => {
    const result = await runCli(["--version"]);
    expect(result.status).toBe(EXIT.OK);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(result.stdout).toBe(`pkgtrust ${pkg.version}\n`);
  });

  it("rejects an unknown command with a usage status and a JSON error when asked", async () => {
    const result = await runCli(["frobnicate", "--json"]);
    expect(result.status).toBe(EXIT.USAGE);
    expect(JSON.parse(result.stdout).error.code).toBe("USAGE_UNKNOWN_COMMAND");
  });
});
