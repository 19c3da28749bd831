/**
 * docs/pkgtrust.1 stays clean mdoc and cannot fall behind the program: every command and
 * every option that `--help` prints must be in it, and every exit status.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT as ANSWER_VARIABLES } from "../../src/cli/answers.js";
import { EXIT } from "../../src/errors.js";
import { BIN, REPO_ROOT } from "./doc-runner.js";
import { requireTool } from "../fixtures/requirements.js";

const MAN = path.join(REPO_ROOT, "docs/pkgtrust.1");
const run = promisify(execFile);
const source = readFileSync(MAN, "utf8");

async function help(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args, "--help"], { env: { PATH: process.env.PATH ?? "" } });
  return stdout;
}

/** "keys init-ca" from "usage: pkgtrust keys init-ca --cn NAME ...": the words before the first option or operand. */
function commandPaths(usage: string): string[] {
  return usage
    .split("\n")
    .filter((line) => /^(usage: |\s+)pkgtrust /.test(line))
    .map((line) => {
      const words = line.replace(/^(usage: |\s+)pkgtrust /, "").split(/\s+/);
      const end = words.findIndex((word) => !/^[a-z][a-z0-9-]*$/.test(word));
      return words.slice(0, end === -1 ? words.length : end).join(" ");
    })
    .filter((commandPath) => commandPath !== "");
}

const options = (text: string) => [...new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? [])];
/** How mdoc source writes an option: `Fl \-ca\-file`. */
const flagInSource = (option: string) => new RegExp(`Fl ${option.slice(1).replace(/-/g, "\\\\-")}(?![a-z0-9\\\\-])`);

let commands: string[] = [];
/** Each command's --help text ("" for pkgtrust's own), read once and in parallel. */
const helps = new Map<string, string>();
beforeAll(async () => {
  expect(existsSync(path.join(REPO_ROOT, "build/src/cli/main.js")), "run 'npm run build' first (npm test does)").toBe(true);
  const top = await help();
  helps.set("", top);
  commands = [...top.matchAll(/^ {2}([a-z][a-z0-9-]*) {2,}/gm)].map((match) => match[1] as string);
  const texts = await Promise.all(commands.map((command) => help(command)));
  commands.forEach((command, index) => helps.set(command, texts[index] ?? ""));
});

describe("pkgtrust.1", () => {
  it.runIf(requireTool("groff", "the manual page under groff -mdoc -ww"))("is clean under groff -mdoc -ww", async () => {
    const { stderr } = await run("groff", ["-mdoc", "-ww", "-Tutf8", "-z", MAN]);
    expect(stderr).toBe("");
  });

  it.runIf(requireTool("mandoc", "the manual page under mandoc -Tlint"))("is clean under mandoc -Tlint at warning level (installed by .ci/run)", async () => {
    const result = await run("mandoc", ["-Tlint", "-W", "warning", MAN]).then(
      ({ stdout, stderr }) => ({ status: 0, output: stdout + stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ status: error.code, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
    );
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("names every command of pkgtrust --help, with every usage form", async () => {
    expect(commands.length).toBeGreaterThanOrEqual(9);
    for (const command of commands) {
      for (const commandPath of commandPaths(helps.get(command) ?? "")) {
        expect(source, `.Cm ${commandPath}`).toMatch(new RegExp(`^\\.Cm ${commandPath}( |$)`, "m"));
      }
    }
  });

  it("documents every option each command's --help shows", async () => {
    const missing: string[] = [];
    for (const command of ["", ...commands]) {
      for (const option of options(helps.get(command) ?? "")) if (!flagInSource(option).test(source)) missing.push(`${command || "pkgtrust"} ${option}`);
    }
    expect(missing).toEqual([]);
    expect(source).toMatch(flagInSource("--version"));
  });

  it("documents no option that no --help shows (a removed option leaves the page too)", () => {
    const known = new Set(["--help", "--version", ...[...helps.values()].flatMap(options)]);
    const documented = [...source.matchAll(/Fl ((?:\\-[a-z0-9]+)+)/g)].map((match) => `-${(match[1] ?? "").replace(/\\-/g, "-")}`);
    expect(documented.length).toBeGreaterThan(40);
    expect([...new Set(documented)].filter((option) => !known.has(option))).toEqual([]);
  });

  it("lists every exit status and the environment variables pkgtrust reads", () => {
    const section = source.slice(source.indexOf(".Sh EXIT STATUS"), source.indexOf(".Sh EXAMPLES"));
    for (const status of Object.values(EXIT)) expect(section).toMatch(new RegExp(`^\\.It ${status}$`, "m"));
    const environment = source.slice(source.indexOf(".Sh ENVIRONMENT"), source.indexOf(".Sh FILES"));
    for (const variable of ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "PKGTRUST_PKG_ADD", ...Object.keys(ANSWER_VARIABLES)]) {
      expect(environment).toMatch(new RegExp(`^\\.It Ev .*\\b${variable}\\b`, "m"));
    }
  });
});
