/**
 * One error base for every area (the sigstore-js pattern): a string-literal code,
 * the exit status of its class, and the next thing the user should try.
 * Tests assert codes, never message text.
 */

/** Exit statuses, documented in README.md and docs/pkgtrust.1. */
export const EXIT = {
  OK: 0,
  /** The artifact was read and is not trusted (a negative verdict). */
  UNTRUSTED: 1,
  /** Bad command line or option values. */
  USAGE: 2,
  /** An input file is unreadable or malformed. */
  INPUT: 3,
  /** Downloading failed (network, HTTP status, TLS, limits). */
  FETCH: 4,
  /** The system configuration could not be read or written; nothing was changed. */
  CONFIG: 5,
  /** The trust state would move backwards or is stale (rollback, freeze). */
  STALE: 6,
  /** A bug in pkgtrust. */
  INTERNAL: 70,
  /** Stopped by SIGINT, SIGTERM or SIGHUP (or left in the wizard): everything written was put back. */
  INTERRUPTED: 130,
} as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export interface CodeInfo {
  readonly exit: ExitStatus;
  /** The next thing to try, one short sentence. */
  readonly next: string;
}
export type CodeTable = Readonly<Record<string, CodeInfo>>;

export interface ErrorOptions {
  cause?: unknown;
  /** Structured facts for --json output (file, line, url ...). */
  detail?: Readonly<Record<string, string | number | boolean | null>>;
  /** A next step more precise than the code table's (e.g. naming the command that was run). */
  next?: string;
}

export class PkgtrustError<C extends string = string> extends Error {
  readonly code: C;
  readonly exit: ExitStatus;
  readonly next: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;

  constructor(code: C, message: string, info: CodeInfo, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PkgtrustError";
    this.code = code;
    this.exit = info.exit;
    this.next = options.next ?? info.next;
    this.detail = options.detail ?? {};
  }
}

/**
 * Builds the error class of one area from its code table, so that each area keeps its
 * codes next to its code and the CLI can list them all.
 */
export function errorClass<const T extends CodeTable>(name: string, table: T) {
  const Area = class extends PkgtrustError<keyof T & string> {
    static readonly codes: T = table;
    constructor(code: keyof T & string, message: string, options?: ErrorOptions) {
      super(code, message, table[code] as CodeInfo, options);
      this.name = name;
    }
  };
  Object.defineProperty(Area, "name", { value: name });
  return Area;
}

const INTERNAL_CODES = {
  INTERNAL: { exit: EXIT.INTERNAL, next: "This is a bug in pkgtrust: please report it with the command line used." },
} as const satisfies CodeTable;
export const InternalError = errorClass("InternalError", INTERNAL_CODES);

/** Wraps anything thrown by lower layers so that no raw error reaches the user. */
export function asPkgtrustError(error: unknown): PkgtrustError {
  if (error instanceof PkgtrustError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError("INTERNAL", `unexpected failure: ${message}`, { cause: error });
}
