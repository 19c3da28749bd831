/**
 * pkg_install.conf(5) as pkg_install's parse-config.c reads it: a line sets VAR when it
 * starts with exactly "VAR="; the value is the rest of the line without its "\n"; a
 * repeated VAR= line appends "\n" and its value (multi-line values). Nothing is trimmed
 * and "#" lines never match.
 */
import { unsafeCharacter } from "./config-value.js";
import { ConfigError } from "./errors.js";

/** The variables pkgtrust owns; every other line is kept byte for byte. */
export const OWNED_VARIABLES = ["VERIFIED_INSTALLATION", "CERTIFICATE_ANCHOR_PKGS", "CERTIFICATE_CHAIN", "PKG_PATH"] as const;
export type OwnedVariable = (typeof OWNED_VARIABLES)[number];
export type OwnedSettings = Readonly<Record<OwnedVariable, string>>;

/** The comment line pkgtrust puts above its settings. */
export const MARKER = "# pkgtrust: the next lines are managed by pkgtrust(1); change them with 'pkgtrust setup'";

/** Splits text into lines that keep their terminators, so that joining gives the input back. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function variableOf(line: string): string | undefined {
  const match = /^([A-Z_][A-Z0-9_]*)=/.exec(line);
  return match?.[1];
}

/** The values pkg_install would see, for every variable assigned in the text. */
export function readSettings(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of splitLines(text)) {
    const name = variableOf(line);
    if (name === undefined) continue;
    const value = line.slice(name.length + 1).replace(/\n$/, "");
    const previous = values.get(name);
    values.set(name, previous === undefined ? value : `${previous}\n${value}`);
  }
  return values;
}

function isOwned(line: string): boolean {
  const name = variableOf(line);
  return line.startsWith(MARKER) || (name !== undefined && (OWNED_VARIABLES as readonly string[]).includes(name));
}

/**
 * Puts pkgtrust's settings into an existing file (or a new one): the owned block stands
 * where the first owned line stood, or at the end; every other owned line is removed,
 * because pkg_install would join repeated assignments into one multi-line value.
 * Merging the result again with the same settings gives the same bytes.
 */
export function mergeSettings(existing: string | undefined, settings: OwnedSettings): string {
  for (const name of OWNED_VARIABLES) requireSafeValue(name, settings[name], { separator: name === "PKG_PATH" });
  const block = [MARKER + "\n", ...OWNED_VARIABLES.map((name) => `${name}=${settings[name]}\n`)].join("");
  const lines = splitLines(existing ?? "");
  const kept: string[] = [];
  let placed = false;
  for (const line of lines) {
    if (!isOwned(line)) {
      kept.push(line);
      continue;
    }
    if (!placed) kept.push(block);
    placed = true;
  }
  if (!placed) {
    const last = kept.at(-1);
    if (last !== undefined && !last.endsWith("\n")) kept.push("\n");
    kept.push(block);
  }
  return kept.join("");
}

/**
 * The last line of defence against line injection (config-value.ts): whatever the input
 * route, a value with a control character (or a ';' in PKG_PATH) is never written.
 */
export function requireSafeValue(name: string, value: string, options: { separator?: boolean } = {}): void {
  const unsafe = unsafeCharacter(value, options);
  if (unsafe === undefined) return;
  throw new ConfigError("CONFIG_UNSAFE_VALUE", `${name} would hold ${unsafe}: ${JSON.stringify(value)}`, { detail: { variable: name, value } });
}
