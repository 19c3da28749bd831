/** Runs pkgtrust in-process in a working directory, for the operator command tests. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { runCli, type CliResult } from "../fixtures/cli.js";


/** pkgtrust in-process; a cwd is required so that relative paths in a test name its temp dir. */
export const pkgtrust = (argv: readonly string[], options: { cwd: string; now?: Date; env?: NodeJS.ProcessEnv }): Promise<CliResult> => runCli(argv, options);

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
