import { isMainThread } from "node:worker_threads";
import { asPkgtrustError, EXIT } from "../errors.js";
import type { CommandContext } from "./command.js";
import { forCommand, SignalError, UsageError } from "./errors.js";
import { writeError } from "./output.js";
import { COMMANDS, findCommand } from "./registry.js";
import { wrap } from "./group.js";
import { didYouMean } from "./suggest.js";
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
    "Every command and subcommand takes --help (pkgtrust keys revoke --help); most take --json.",
    "",
  ].join("\n");
}

function usage(lines: string, summary: string, details?: string): string {
  return `usage: ${lines.split("\n").map((l, i) => (i === 0 ? `pkgtrust ${l}` : `       pkgtrust ${l}`)).join("\n")}\n\n${summary}\n${details === undefined ? "" : `\n${details}\n`}`;
}

/**
 * Runs one command line and returns the exit status; never throws. `releaseSignals` is called
 * once the command is known not to stop on `context.signal`.
 */
export async function run(context: CommandContext, releaseSignals: () => void = () => undefined): Promise<number> {
  const [name, ...rest] = context.argv;
  let json = context.argv.includes("--json");
  /** "pkgtrust keys revoke": what a usage error's next step tells the user to ask --help. */
  let invoked: string | undefined;
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
    if (name.startsWith("-")) {
      throw new UsageError("USAGE_UNKNOWN_OPTION", `unknown option ${name}: pkgtrust itself takes --help and --version, other options follow a command (pkgtrust setup --repo URL)`);
    }
    const entry = findCommand(name);
    if (!entry) throw new UsageError("USAGE_UNKNOWN_COMMAND", `unknown command '${name}'${didYouMean(name, COMMANDS.map((c) => c.name))}`);
    const command = await entry.load();
    if (!command.stopsOnSignal) releaseSignals();
    const subcommand = command.subcommands?.find((s) => s.name === rest[0]);
    invoked = subcommand ? `pkgtrust ${name} ${subcommand.name}` : `pkgtrust ${name}`;
    if (rest.includes("--help") || rest.includes("-h")) {
      context.stdout.write(subcommand ? usage(subcommand.usage, wrap(subcommand.summary, 78).join("\n")) : usage(command.usage, command.summary, command.details));
      return EXIT.OK;
    }
    return await command.run({ ...context, argv: rest, reportErrorsAsJson: (on) => void (json = on) });
  } catch (thrown) {
    const error = invoked === undefined ? asPkgtrustError(thrown) : forCommand(asPkgtrustError(thrown), invoked);
    writeError(context, error, json);
    if (error.exit === EXIT.INTERNAL && context.env.PKGTRUST_DEBUG) context.stderr.write(`${String((thrown as Error)?.stack)}\n`);
    return error.exit;
  }
}

const CAUGHT_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Catches SIGINT, SIGTERM and SIGHUP from the start, so that setup can roll back whenever one comes. */
function catchSignals() {
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    caught ??= name;
    controller.abort(new SignalError("INTERRUPTED", `stopped by ${name}`, { detail: { signal: name } }));
  };
  for (const name of CAUGHT_SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    /** The default action again (the process dies of the signal), for a signal caught meanwhile too. */
    release() {
      for (const name of CAUGHT_SIGNALS) process.off(name, onSignal);
      if (caught !== undefined) process.kill(process.pid, caught);
    },
  };
}

export async function main(): Promise<void> {
  // A repo sign job thread is this same file started again (job-threads.ts).
  if (!isMainThread) {
    const jobs = await import("../keys/repo-sign/job-threads.js");
    if (jobs.isJobThread()) return jobs.serveJobs();
  }
  const signals = catchSignals();
  const status = await run({
    argv: process.argv.slice(2),
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    now: new Date(),
    signal: signals.signal,
    ...(process.argv[1] ? { entry: process.argv[1] } : {}),
  }, signals.release);
  process.exitCode = status;
}
