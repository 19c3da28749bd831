import { EXIT, errorClass } from "../errors.js";

export const UsageError = errorClass("UsageError", {
  USAGE_UNKNOWN_COMMAND: { exit: EXIT.USAGE, next: "Run 'pkgtrust --help' for the list of commands." },
  USAGE_BAD_OPTION: { exit: EXIT.USAGE, next: "Run 'pkgtrust COMMAND --help' for the options of a command." },
  USAGE_MISSING_ARGUMENT: { exit: EXIT.USAGE, next: "Run 'pkgtrust COMMAND --help' for what the command needs." },
  USAGE_BAD_VALUE: { exit: EXIT.USAGE, next: "Correct the option's value; 'pkgtrust COMMAND --help' lists what each takes." },
});
