import type { Command } from "./command.js";

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Loaded on demand so that `--version` and scripted runs start fast. */
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "setup", summary: "Configure verified installation from a repository's key bundle", load: async () => (await import("./commands/setup.js")).command },
  { name: "refresh", summary: "Re-fetch the configured repository's key bundle (key rotation)", load: async () => (await import("./commands/refresh.js")).command },
  { name: "demo", summary: "Run setup against a generated demo repository on 127.0.0.1", load: async () => (await import("./commands/demo.js")).command },
  { name: "status", summary: "Show the configured trust and what needs attention", load: async () => (await import("./commands/status.js")).command },
  { name: "verify-bundle", summary: "Verify a repository key bundle against an anchor file", load: async () => (await import("./commands/verify-bundle.js")).command },
  { name: "verify-package", summary: "Verify a signed binary package as pkg_install on NetBSD 10 would", load: async () => (await import("./commands/verify-package.js")).command },
  { name: "sign-package", summary: "Sign a binary package in pkg_install's format", load: async () => (await import("./commands/sign-package.js")).command },
  { name: "anchors", summary: "Check the installed base-system anchor files against the anchor catalogue", load: async () => (await import("./commands/anchors.js")).command },
  { name: "keys", summary: "Operators: issue the root, intermediate and build certificates; revoke", load: async () => (await import("./commands/keys.js")).command },
  { name: "bundle", summary: "Operators: build and lint a repository key bundle (pkg_keys.pem)", load: async () => (await import("./commands/bundle.js")).command },
  { name: "repo", summary: "Operators: sign and re-sign every package of a repository, then its pkg_summary", load: async () => (await import("./commands/repo.js")).command },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((entry) => entry.name === name);
}
