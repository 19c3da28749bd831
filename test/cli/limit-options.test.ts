import { describe, expect, it } from "vitest";
import { limitOptionSchema, limitsFrom } from "../../src/cli/limit-options.js";
import { DEFAULT_LIMITS } from "../../src/limits.js";
import { runCli } from "../fixtures/cli.js";

describe("the limits of setup and refresh", () => {
  it.each(["setup", "refresh"])("%s --help prints every limit with its default and the option that changes it", async (command) => {
    const { status, stdout } = await runCli([command, "--help"]);
    expect(status).toBe(0);
    expect(stdout).toContain("limits (default, and the option that changes it):");
    expect(stdout).toMatch(/the whole run.*SETUP_DEADLINE\)\s+1800 s\s+--deadline SECONDS/);
    expect(stdout).toMatch(/FETCH_TIMEOUT\)\s+15 s, 30 s, 30 s\s+--timeout SECONDS/);
    expect(stdout).toMatch(/5xx\s+3\s+--retries N/);
    expect(stdout).toMatch(/FETCH_DEADLINE\)\s+16\.0 KiB\/s\s+--min-rate BYTES/);
    expect(stdout).toMatch(/key bundle must arrive within\s+124 s/);
    expect(stdout).toMatch(/path search: steps, candidates, signature checks\s+100000, 400000, 30000/);
  });

  it("turns the options into limits, the rest staying at their defaults", () => {
    const limits = limitsFrom(limitOptionSchema.parse({ deadline: "90", timeout: "2", retries: "0", "min-rate": "1000" }));
    expect(limits).toEqual({
      ...DEFAULT_LIMITS,
      setupDeadlineMs: 90_000,
      timeouts: { connectMs: 2000, headersMs: 2000, bodyMs: 2000 },
      retries: 0,
      minBytesPerSecond: 1000,
    });
  });

  it.each([["--retries", "many"], ["--timeout", "0"], ["--deadline", "-5"], ["--min-rate", "1.5"]])("refuses %s %s", async (option, value) => {
    const { status, stderr } = await runCli(["setup", "--repo", "http://127.0.0.1:9/", "--non-interactive", `${option}=${value}`]);
    expect(status).toBe(2);
    expect(stderr).toContain("USAGE_BAD_VALUE");
  });
});
