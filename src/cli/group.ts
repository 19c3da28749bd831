import type { CommandContext, Subcommand } from "./command.js";
import { UsageError } from "./errors.js";
import { didYouMean } from "./suggest.js";

/** Splits prose into lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A group's --help text: the intro, then each subcommand's name beside its wrapped summary, then the outro. */
export function groupSummary(intro: string, subcommands: readonly Subcommand[], outro: string): string {
  const width = Math.max(...subcommands.map((s) => s.name.length));
  const indent = " ".repeat(width + 4);
  const table = subcommands.flatMap((s) => wrap(s.summary, 78 - indent.length).map((line, i) => (i === 0 ? `  ${s.name.padEnd(width)}  ${line}` : `${indent}${line}`)));
  return [...wrap(intro, 78), "", ...table, "", ...wrap(outro, 78)].join("\n");
}

/** The usage lines of a group, one per subcommand. */
export function groupUsage(subcommands: readonly Subcommand[]): string {
  return subcommands.map((s) => s.usage).join("\n");
}

/** Runs the subcommand named by argv[0] with the rest of argv still in place (the handler skips argv[0]). */
export function runSubcommand(group: string, context: CommandContext, handlers: Readonly<Record<string, (context: CommandContext) => Promise<number>>>): Promise<number> {
  const names = Object.keys(handlers);
  const name = context.argv[0];
  if (name === undefined || name.startsWith("-")) throw new UsageError("USAGE_MISSING_ARGUMENT", `missing subcommand: ${names.join(", ")}`);
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  if (!handler) {
    const hint = didYouMean(name, names) || `: the subcommands are ${names.join(", ")}`;
    throw new UsageError("USAGE_UNKNOWN_COMMAND", `unknown subcommand '${group} ${name}'${hint}`);
  }
  return handler(context);
}
