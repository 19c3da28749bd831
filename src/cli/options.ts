import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { UsageError } from "./errors.js";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedCommandLine<T> {
  readonly options: T;
  readonly positionals: string[];
}

/**
 * Parses a command's argv with node:util and validates the result with the command's zod
 * schema (one schema per input, architecture.md); the core only ever sees parsed values.
 */
export function parseCommandLine<S extends z.ZodType>(
  argv: readonly string[],
  spec: OptionSpec,
  schema: S,
): ParsedCommandLine<z.infer<S>> {
  let raw: ReturnType<typeof parseArgs>;
  try {
    raw = parseArgs({ args: [...argv], options: { ...spec, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError("USAGE_BAD_OPTION", (error as Error).message, { cause: error });
  }
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
