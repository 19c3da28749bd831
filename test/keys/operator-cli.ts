/** Runs pkgtrust in-process in a working directory, for the operator command tests. */
import { execFile } from "node:child_process";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { run } from "../../src/cli/main.js";

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed when it is JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON output
  readonly json: any;
}

export async function pkgtrust(argv: readonly string[], options: { cwd: string; now?: Date; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  const status = await run({ argv: [...argv], stdout, stderr, env: options.env ?? {}, cwd: options.cwd, isTTY: false, now: options.now ?? new Date() });
  const text = Buffer.concat(out).toString();
  return { status, stdout: text, stderr: Buffer.concat(err).toString(), json: text.startsWith("{") ? JSON.parse(text) : undefined };
}

const execFileAsync = promisify(execFile);

/** The openssl CLI, asynchronously (never blocks a loopback server in the same process); ok false on a non-zero exit. */
export async function openssl(args: readonly string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("openssl", [...args], { cwd, encoding: "utf8" });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}
