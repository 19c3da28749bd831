import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { EXIT } from "../../src/errors.js";

describe("the command line", () => {
  it("prints the version", async () => {
    const result = await runCli(["--version"]);
    expect(result.status).toBe(EXIT.OK);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(result.stdout).toBe(`pkgtrust ${pkg.version}\n`);
  });

  it("rejects an unknown command with a usage status and a JSON error when asked", async () => {
    const result = await runCli(["frobnicate", "--json"]);
    expect(result.status).toBe(EXIT.USAGE);
    expect(JSON.parse(result.stdout).error.code).toBe("USAGE_UNKNOWN_COMMAND");
  });
});
