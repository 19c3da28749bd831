import { EXIT, errorClass, type PkgtrustError } from "../errors.js";

export const UsageError = errorClass("UsageError", {
  USAGE_UNKNOWN_COMMAND: { exit: EXIT.USAGE, next: "Run 'pkgtrust --help' for the list of commands." },
  USAGE_UNKNOWN_OPTION: { exit: EXIT.USAGE, next: "Run 'pkgtrust --help' for the commands; each takes --help for its options." },
  USAGE_MISSING_VALUE: { exit: EXIT.USAGE, next: "Give the option its value (--option VALUE or --option=VALUE)." },
  USAGE_BAD_OPTION: { exit: EXIT.USAGE, next: "Run 'pkgtrust --help' for the commands; each takes --help for its options." },
  USAGE_MISSING_ARGUMENT: { exit: EXIT.USAGE, next: "Run 'pkgtrust --help' for the commands; each takes --help for what it needs." },
  USAGE_BAD_VALUE: { exit: EXIT.USAGE, next: "Correct the option's value; each command's --help lists what its options take." },
});
/** A caught signal, as the reason of CommandContext.signal. */
export const SignalError = errorClass("SignalError", {
  INTERRUPTED: { exit: EXIT.INTERRUPTED, next: "Everything the run had written was put back; run the command again to finish it." },
});

/** Files named on setup's and refresh's command line that no other area reads. */
export const CliFileError = errorClass("CliFileError", {
  CA_FILE_UNREADABLE: { exit: EXIT.INPUT, next: "Give --ca-file the PEM file of the CA that issued the repository server's certificate." },
});

type UsageCode = keyof typeof UsageError.codes;

const NEXT: Readonly<Record<UsageCode, (command: string) => string>> = {
  USAGE_UNKNOWN_COMMAND: (command) => `Run '${command} --help' for its subcommands.`,
  USAGE_UNKNOWN_OPTION: (command) => `Run '${command} --help' for its options.`,
  USAGE_MISSING_VALUE: (command) => `Give the option its value (--option VALUE or --option=VALUE); '${command} --help' lists what each takes.`,
  USAGE_BAD_OPTION: (command) => `Run '${command} --help' for its options.`,
  USAGE_MISSING_ARGUMENT: (command) => `Run '${command} --help' for what it needs.`,
  USAGE_BAD_VALUE: (command) => `Correct the option's value; '${command} --help' lists what each takes.`,
};

/** A usage error's next step naming the command that was run ("pkgtrust keys revoke"), not a placeholder. */
export function forCommand(error: PkgtrustError, command: string): PkgtrustError {
  if (!(error instanceof UsageError)) return error;
  const code = error.code as UsageCode;
  return new UsageError(code, error.message, { cause: error.cause, detail: error.detail, next: NEXT[code](command) });
}
