import type { Writable } from "node:stream";

/** Everything a command may touch of the process, passed in so that tests can run commands in-process. */
export interface CommandContext {
  readonly argv: readonly string[];
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly isTTY: boolean;
  /** The verification time; the CLI passes the current time. */
  readonly now: Date;
  /**
   * Aborted at the first SIGINT, SIGTERM or SIGHUP, its reason a SignalError (INTERRUPTED,
   * detail.signal the name), for commands with `stopsOnSignal`; the others die of the signal.
   */
  readonly signal: AbortSignal;
  /**
   * Tells the runner that the command's errors go out as JSON although --json is not on the
   * command line (an answer file asked for it).
   */
  readonly reportErrorsAsJson?: (json: boolean) => void;
  /** The file the CLI runs from (process.argv[1]), for commands that start threads of it; absent in process (tests). */
  readonly entry?: string;
}

/** One subcommand of a group (keys, bundle), for `pkgtrust keys revoke --help`. */
export interface Subcommand {
  readonly name: string;
  /** Its usage line, without the leading "pkgtrust ". */
  readonly usage: string;
  /** What it does, as prose (wrapped when shown). */
  readonly summary: string;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by --help, without the leading "pkgtrust ". */
  readonly usage: string;
  /** Shown by --help after the summary, as it is (setup's limits). */
  readonly details?: string;
  /** A group's subcommands: --help after one of them shows that one only. */
  readonly subcommands?: readonly Subcommand[];
  /** The command ends itself when `context.signal` aborts (setup and refresh roll back and report). */
  readonly stopsOnSignal?: boolean;
  /** Returns the exit status; failures are thrown as PkgtrustError. */
  run(context: CommandContext): Promise<number>;
}
