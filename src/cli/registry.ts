import type { Command } from "./command.js";

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Loaded on demand so that `--version` and scripted runs start fast. */
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "verify-bundle", summary: "Verify a repository key bundle against an anchor file", load: async () => (await import("./commands/verify-bundle.js")).command },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((entry) => entry.name === name);
}
