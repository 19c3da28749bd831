import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { UsageError } from "./errors.js";
import { didYouMean } from "./suggest.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** A command's options: one zod field per option, `--name` taking a value unless the field is a boolean. */
export type OptionSchema = z.ZodObject;

/** Whether a field is a boolean under its wrappers (optional, default, pipe): such an option is a flag. */
function isFlag(field: z.core.$ZodType): boolean {
  const def = field._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if (def.type === "boolean") return true;
  const inner = def.type === "pipe" ? def.in : def.innerType;
  return inner !== undefined && ["optional", "default", "pipe"].includes(def.type) && isFlag(inner);
}

/** The parseArgs spec of a command, derived from its schema so that the two cannot drift. */
export function optionSpecOf(schema: OptionSchema): OptionSpec {
  return Object.fromEntries(Object.entries(schema.shape).map(([name, field]) => [name, { type: isFlag(field) ? "boolean" : "string" }]));
}

export interface ParsedCommandLine<T> {
  readonly options: T;
  readonly positionals: string[];
}

/**
 * Reads an argv against a command's options with our own messages rather than node:util's
 * ("unknown option --rpeo; did you mean --repo?", "--repo needs a value"): parseArgs
 * splits the words (tokens, not strict), and each option token is checked here.
 */
export function readOptions(argv: readonly string[], spec: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[]; tokens: ReturnType<typeof parseArgs>["tokens"] } {
  const options: OptionSpec = { ...spec, help: { type: "boolean", short: "h" } };
  const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    const flag = token.rawName;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (option === undefined) {
      const known = flag.startsWith("--") ? Object.keys(options).map((name) => `--${name}`) : [];
      throw new UsageError("USAGE_UNKNOWN_OPTION", `unknown option ${flag}${didYouMean(flag, known)}`, { detail: { option: flag } });
    }
    const long = `--${token.name}`;
    if (option.type === "string") {
      if (token.value === undefined) throw new UsageError("USAGE_MISSING_VALUE", `${long} needs a value`, { detail: { option: long } });
      // As node:util does: "--repo --json" is more likely a forgotten value than a URL starting with '-'.
      if (token.inlineValue === false && token.value.startsWith("-")) {
        const isOption = Object.keys(options).some((name) => token.value === `--${name}`);
        const hint = isOption ? "" : ` (write ${long}=${token.value} for a value starting with '-')`;
        throw new UsageError("USAGE_MISSING_VALUE", `${long} needs a value${hint}`, { detail: { option: long } });
      }
    } else if (token.inlineValue) {
      throw new UsageError("USAGE_BAD_VALUE", `${long} takes no value`, { detail: { option: long } });
    }
    if (seen.has(token.name) && !option.multiple) throw new UsageError("USAGE_BAD_OPTION", `${long} is given twice`, { detail: { option: long } });
    seen.add(token.name);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals, tokens: parsed.tokens };
}

/**
 * Parses a command's argv and validates the result with the command's zod schema (one
 * schema per input, architecture.md); the core only ever sees parsed values.
 */
export function parseCommandLine<S extends OptionSchema>(argv: readonly string[], schema: S): ParsedCommandLine<z.infer<S>> {
  const raw = readOptions(argv, optionSpecOf(schema));
  const parsed = schema.safeParse(raw.values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `--${issue.path.join(".")}: ` : "";
    throw new UsageError("USAGE_BAD_VALUE", `${where}${issue?.message ?? "invalid options"}`);
  }
  return { options: parsed.data, positionals: raw.positionals };
}

export function requirePositionals(positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) {
    throw new UsageError("USAGE_MISSING_ARGUMENT", `missing ${names.slice(positionals.length).join(" and ")}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError("USAGE_BAD_OPTION", `unexpected argument '${positionals[names.length]}'`);
  }
  return [...positionals];
}
