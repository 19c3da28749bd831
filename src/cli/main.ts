import { asPkgtrustError, EXIT } from "../errors.js";
import type { CommandContext } from "./command.js";
import { UsageError } from "./errors.js";
import { errorJson, errorText } from "./output.js";
import { COMMANDS, findCommand } from "./registry.js";
import { VERSION } from "../version.js";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: pkgtrust COMMAND [options]",
    "",
    "Fetches a package repository's key bundle, verifies it against the base-system",
    "anchor and configures pkg_install to verify every package.",
    "",
    "commands:",
    ...lines,
    "",
    "Every command takes --help; most take --json for scripts.",
    "",
  ].join("\n");
}

/** Runs one command line and returns the exit status; never throws. */
export async function run(context: CommandContext): Promise<number> {
  const [name, ...rest] = context.argv;
  let json = context.argv.includes("--json");
  try {
    // On a terminal, plain `pkgtrust` opens the setup wizard (what an admin or sysinst's shell escape wants).
    const setup = findCommand("setup");
    if (name === undefined && context.isTTY && setup) return await (await setup.load()).run(context);
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      context.stdout.write(help());
      return name === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (name === "--version" || name === "-V") {
      context.stdout.write(`pkgtrust ${VERSION}\n`);
      return EXIT.OK;
    }
    const entry = findCommand(name);
    if (!entry) throw new UsageError("USAGE_UNKNOWN_COMMAND", `unknown command '${name}'`);
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      context.stdout.write(`usage: ${command.usage.split("\n").map((l, i) => (i === 0 ? `pkgtrust ${l}` : `       pkgtrust ${l}`)).join("\n")}\n\n${command.summary}\n`);
      return EXIT.OK;
    }
    return await command.run({ ...context, argv: rest, reportErrorsAsJson: (on) => void (json = on) });
  } catch (thrown) {
    const error = asPkgtrustError(thrown);
    if (json) context.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
    else context.stderr.write(errorText(error));
    if (error.exit === EXIT.INTERNAL && context.env.PKGTRUST_DEBUG) context.stderr.write(`${String((thrown as Error)?.stack)}\n`);
    return error.exit;
  }
}

export async function main(): Promise<void> {
  const status = await run({
    argv: process.argv.slice(2),
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    now: new Date(),
  });
  process.exitCode = status;
}
