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
   * Tells the runner that the command's errors go out as JSON although --json is not on the
   * command line (an answer file asked for it).
   */
  readonly reportErrorsAsJson?: (json: boolean) => void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by --help, without the leading "pkgtrust ". */
  readonly usage: string;
  /** Returns the exit status; failures are thrown as PkgtrustError. */
  run(context: CommandContext): Promise<number>;
}
