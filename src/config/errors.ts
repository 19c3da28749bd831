import { EXIT, errorClass } from "../errors.js";

export const ConfigError = errorClass("ConfigError", {
  CONFIG_READ: { exit: EXIT.CONFIG, next: "Check that the file exists and is readable, or pass another path with --config." },
  CONFIG_WRITE: { exit: EXIT.CONFIG, next: "Check free space and permissions of the directory (run as root); the report says whether anything was left changed." },
  CONFIG_PERMISSION: { exit: EXIT.CONFIG, next: "Run as root, and check that the file and its directory are not immutable or append-only (lsattr, ls -lo); the report says whether anything was left changed." },
  CONFIG_NO_SPACE: { exit: EXIT.CONFIG, next: "Free some space on the file system named (df), then run pkgtrust again; the report says whether anything was left changed." },
  CONFIG_READ_ONLY: { exit: EXIT.CONFIG, next: "Mount the file system named read-write, then run pkgtrust again." },
  CONFIG_UNSAFE_VALUE: { exit: EXIT.USAGE, next: "Remove the control character or ';' from the repository URL or path named (rename the directory if need be)." },
  CONFIG_NOT_ABSOLUTE: { exit: EXIT.USAGE, next: "Give paths as the target system sees them, starting with '/'." },
  CONFIG_ROOT_MISSING: { exit: EXIT.CONFIG, next: "Mount the target system first, or correct --root." },
  CONFIG_SYMLINK_OUTSIDE_ROOT: { exit: EXIT.CONFIG, next: "Replace the symlink with a file, or with a link that stays inside the target root." },
  CONFIG_SYMLINK_LOOP: { exit: EXIT.CONFIG, next: "Remove the symlink loop, then run pkgtrust again." },
  CONFIG_NOT_A_FILE: { exit: EXIT.CONFIG, next: "Move the directory or device out of the way, or choose another path." },
  CONFIG_LOCKED: { exit: EXIT.CONFIG, next: "Wait for the other pkgtrust run to finish; if none runs, remove the lock file named." },
  CONFIG_STATE_INVALID: { exit: EXIT.CONFIG, next: "Run 'pkgtrust setup --reset-state' to record a fresh state." },
  CONFIG_NOT_CONFIGURED: { exit: EXIT.CONFIG, next: "Run 'pkgtrust setup --repo URL' first." },
  CONFIG_CONCURRENT_CHANGE: { exit: EXIT.CONFIG, next: "Another pkgtrust run changed the configuration meanwhile: run pkgtrust again." },
  CONFIG_ROLLBACK_FAILED: { exit: EXIT.CONFIG, next: "Fix the cause named (immutable file, full disk) and run pkgtrust again to finish putting the files back, or restore them by hand and remove the journal named." },
  CONFIG_JOURNAL_INVALID: { exit: EXIT.CONFIG, next: "Check the files it names against their .pkgtrust-old backups, then remove the journal named." },
});
