import { EXIT, errorClass } from "../errors.js";

export const ConfigError = errorClass("ConfigError", {
  CONFIG_READ: { exit: EXIT.CONFIG, next: "Check that the file exists and is readable, or pass another path with --config." },
  CONFIG_WRITE: { exit: EXIT.CONFIG, next: "Check free space and permissions of the directory (run as root); nothing was changed." },
  CONFIG_UNSAFE_VALUE: { exit: EXIT.USAGE, next: "Remove the control character or ';' from the repository URL or path named (rename the directory if need be)." },
  CONFIG_NOT_ABSOLUTE: { exit: EXIT.USAGE, next: "Give paths as the target system sees them, starting with '/'." },
  CONFIG_ROOT_MISSING: { exit: EXIT.CONFIG, next: "Mount the target system first, or correct --root." },
  CONFIG_SYMLINK_OUTSIDE_ROOT: { exit: EXIT.CONFIG, next: "Replace the symlink with a file, or with a link that stays inside the target root." },
  CONFIG_SYMLINK_LOOP: { exit: EXIT.CONFIG, next: "Remove the symlink loop, then run pkgtrust again." },
  CONFIG_NOT_A_FILE: { exit: EXIT.CONFIG, next: "Move the directory or device out of the way, or choose another path." },
  CONFIG_LOCKED: { exit: EXIT.CONFIG, next: "Wait for the other pkgtrust run to finish; if none runs, remove the lock file named." },
  CONFIG_STATE_INVALID: { exit: EXIT.CONFIG, next: "Run 'pkgtrust setup' again to record a fresh state." },
  CONFIG_NOT_CONFIGURED: { exit: EXIT.CONFIG, next: "Run 'pkgtrust setup --repo URL' first." },
  CONFIG_CONCURRENT_CHANGE: { exit: EXIT.CONFIG, next: "Another pkgtrust run changed the configuration meanwhile: run pkgtrust again." },
  CONFIG_ROLLBACK_FAILED: { exit: EXIT.CONFIG, next: "Restore the files named from their .pkgtrust-old backups by hand." },
});
