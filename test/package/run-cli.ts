import { PassThrough } from "node:stream";
import { run } from "../../src/cli/main.js";

/** Runs one pkgtrust command line in-process and collects its output. */
export async function runCli(argv: string[], now = new Date()): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  const status = await run({ argv, stdout, stderr, env: {}, cwd: process.cwd(), isTTY: false, now });
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
