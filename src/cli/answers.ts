/**
 * Unattended installs: an answer file (`--answers FILE`) and environment variables fill in
 * the options of `pkgtrust setup` that the command line leaves out.
 * Precedence: command-line flags > answer file > environment > defaults.
 *
 * The answer file is JSON (`{"repo": "https://...", "no-test-install": true}`) or
 * `KEY=value` lines (`repo=https://...`, `TEST_PACKAGE=digest`; `#` comments, blank lines,
 * one pair of surrounding quotes stripped). Keys are setup's option names; upper case with
 * `_` for `-` is accepted too. Booleans are yes/no, true/false or 1/0, in lines and JSON
 * strings alike (JSON true/false too).
 */
import { z } from "zod";
import { EXIT, errorClass } from "../errors.js";
import { readInputText } from "../input-file.js";
import { configText, targetPath } from "./bootstrap-options.js";
import { readOptions, type OptionSpec } from "./options.js";

export const AnswersError = errorClass("AnswersError", {
  ANSWERS_UNREADABLE: { exit: EXIT.INPUT, next: "Check the path and permissions of the --answers file." },
  ANSWERS_TOO_LARGE: { exit: EXIT.INPUT, next: "An answer file holds a few lines: check that --answers names the right file." },
  ANSWERS_MALFORMED: { exit: EXIT.INPUT, next: "Write the answer file as a JSON object or as KEY=value lines (see pkgtrust(1))." },
  ANSWERS_BAD_VALUE: { exit: EXIT.INPUT, next: "Correct the key or value named in the message; the keys are setup's option names." },
  ENV_BAD_VALUE: { exit: EXIT.USAGE, next: "Correct or unset the environment variable named in the message." },
});

/** Endless-data guard: an answer file is a few hundred bytes. */
export const MAX_ANSWERS_BYTES = 64 * 1024;

const text = z.string().min(1, "must not be empty");
/** Every option of setup except --answers itself. */
export const answersSchema = z.strictObject({
  // PKG_PATH and pkgin's repositories.conf get the repository: line injection is refused here already.
  repo: configText({ separator: true }).pipe(text).optional(),
  root: text.optional(),
  anchor: targetPath.optional(),
  config: targetPath.optional(),
  "ca-file": text.optional(),
  "test-package": text.optional(),
  "no-test-install": z.boolean().optional(),
  "allow-weak": z.boolean().optional(),
  "reset-state": z.boolean().optional(),
  "non-interactive": z.boolean().optional(),
  json: z.boolean().optional(),
});
export type Answers = z.infer<typeof answersSchema>;

/** The main options by environment variable. */
export const ENVIRONMENT: Readonly<Record<string, keyof Answers>> = {
  PKGTRUST_REPO: "repo",
  PKGTRUST_ROOT: "root",
  PKGTRUST_ANCHOR: "anchor",
  PKGTRUST_CONFIG: "config",
  PKGTRUST_CA_FILE: "ca-file",
  PKGTRUST_TEST_PACKAGE: "test-package",
};

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { yes: true, true: true, "1": true, no: false, false: false, "0": false };
const BOOLEAN_KEYS: ReadonlySet<string> = new Set(["no-test-install", "allow-weak", "reset-state", "non-interactive", "json"]);

function malformed(source: string, message: string, line?: number): never {
  throw new AnswersError("ANSWERS_MALFORMED", `${source}${line === undefined ? "" : `:${line}`}: ${message}`, { detail: { source, ...(line === undefined ? {} : { line }) } });
}

/** Setup's option name for an answer key: `TEST_PACKAGE` and `test-package` alike. */
const optionName = (key: string) => key.trim().toLowerCase().replace(/_/g, "-");

/** yes/no, true/false, 1/0 (any case) for a boolean key, in lines and JSON strings alike. */
function booleanWord(key: string, value: string, source: string, line?: number): boolean {
  const word = BOOLEAN_WORDS[value.trim().toLowerCase()];
  if (word === undefined) {
    throw new AnswersError("ANSWERS_BAD_VALUE", `${source}${line === undefined ? "" : `:${line}`}: ${key} takes yes or no`, { detail: { source, key, ...(line === undefined ? {} : { line }) } });
  }
  return word;
}

function readLines(content: string, source: string): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const equals = line.indexOf("=");
    if (equals <= 0) malformed(source, "expected KEY=value", index + 1);
    const key = optionName(line.slice(0, equals));
    let value = line.slice(equals + 1).trim();
    const quote = value[0];
    if (value.length >= 2 && (quote === '"' || quote === "'") && value.endsWith(quote)) value = value.slice(1, -1);
    if (Object.hasOwn(values, key)) malformed(source, `${key} is given twice`, index + 1);
    values[key] = BOOLEAN_KEYS.has(key) ? booleanWord(key, value, source, index + 1) : value;
  });
  return values;
}

/** A JSON object's keys as option names, and "yes"/"no" strings of boolean keys as booleans (the docs list yes/no for both forms). */
function readJsonObject(raw: unknown, source: string): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(raw)) {
    const key = optionName(name);
    if (Object.hasOwn(values, key)) malformed(source, `${key} is given twice`);
    values[key] = BOOLEAN_KEYS.has(key) && typeof value === "string" ? booleanWord(key, value, source) : value;
  }
  return values;
}

/**
 * Parses and validates an answer file's text; AnswersError on anything else. `onJson` learns
 * whether the file asks for JSON output even when another of its values is refused, so that
 * the refusal itself is reported the way the file asked.
 */
export function parseAnswers(content: string, source: string, onJson?: (json: boolean) => void): Answers {
  if (Buffer.byteLength(content) > MAX_ANSWERS_BYTES) {
    throw new AnswersError("ANSWERS_TOO_LARGE", `${source}: more than ${MAX_ANSWERS_BYTES} bytes`, { detail: { source } });
  }
  let raw: unknown;
  if (content.trimStart().startsWith("{")) {
    try {
      raw = JSON.parse(content);
    } catch (error) {
      malformed(source, `not valid JSON: ${(error as Error).message}`);
    }
    raw = readJsonObject(raw, source);
  } else {
    raw = readLines(content, source);
  }
  if (typeof raw === "object" && raw !== null && Object.hasOwn(raw, "json") && (raw as { json: unknown }).json === true) onJson?.(true);
  const parsed = answersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : issue?.path.join(".");
    throw new AnswersError("ANSWERS_BAD_VALUE", `${source}: ${key ? `${key}: ` : ""}${issue?.message ?? "invalid answers"}`, { detail: { source, key: key ?? null } });
  }
  return parsed.data;
}

/** The main options from PKGTRUST_* variables; an empty variable counts as unset. */
export function environmentAnswers(env: NodeJS.ProcessEnv): Answers {
  const answers: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const parsed = answersSchema.shape[key].safeParse(value);
    if (!parsed.success) throw new AnswersError("ENV_BAD_VALUE", `${name}: ${parsed.error.issues[0]?.message ?? "invalid value"}`, { detail: { variable: name } });
    answers[key] = value;
  }
  return answers;
}

/**
 * Returns `argv` without `--answers FILE` and with the options it lacks taken from the
 * answer file, then the environment, as flags in front.
 */
export async function withAnswers(argv: readonly string[], spec: OptionSpec, env: NodeJS.ProcessEnv, cwd: string, onJson?: (json: boolean) => void): Promise<string[]> {
  // The command's own options plus --answers, with the command's messages for a bad command line.
  const parsed = readOptions(argv, { ...spec, answers: { type: "string" } });
  const skip = new Set<number>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind === "option" && token.name === "answers") {
      skip.add(token.index);
      if (token.inlineValue === false) skip.add(token.index + 1);
    }
  }
  const rest = argv.filter((_, index) => !skip.has(index));
  let fromFile: Answers = {};
  const file = parsed.values.answers;
  if (typeof file === "string") {
    const content = await readInputText(file, cwd, (message, options) => new AnswersError("ANSWERS_UNREADABLE", `the answer file: ${message}`, { ...options, detail: { source: file } }));
    fromFile = parseAnswers(content, file, onJson);
  }
  const merged: Answers = { ...environmentAnswers(env), ...fromFile };
  const added: string[] = [];
  for (const [key, value] of Object.entries(merged)) {
    if (!(key in spec) || parsed.values[key] !== undefined || value === undefined || value === false) continue;
    added.push(value === true ? `--${key}` : `--${key}=${value}`);
  }
  return [...added, ...rest];
}
