/**
 * What a person sees for a mistyped command line: coded usage errors in our words, with a
 * suggestion from the command's own options and a next step naming the command run.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { optionSpecOf } from "../../src/cli/options.js";
import { parseIsoTime } from "../../src/cli/time-option.js";
import { closest, editDistance } from "../../src/cli/suggest.js";
import { EXIT } from "../../src/errors.js";
import { runCli } from "../fixtures/cli.js";

const error = async (...argv: string[]) => {
  const result = await runCli([...argv, "--json"]);
  expect(result.status).toBe(EXIT.USAGE);
  return result.json.error as { code: string; message: string; next: string };
};

describe("option errors", () => {
  it("name an unknown option and suggest the command's closest one", async () => {
    const found = await error("setup", "--rpeo", "https://example.org/All");
    expect(found.code).toBe("USAGE_UNKNOWN_OPTION");
    expect(found.message).toBe("unknown option --rpeo; did you mean --repo?");
    expect(found.next).toContain("pkgtrust setup --help");
    // Suggestions come from this command's options only: verify-bundle has --anchor, not --repo.
    expect((await error("verify-bundle", "b.pem", "--anchr", "a.pem")).message).toBe("unknown option --anchr; did you mean --anchor?");
    expect((await error("status", "--rpeo", "x")).message).toBe("unknown option --rpeo");
  });

  it("say that an option needs a value, also when the next word is another option", async () => {
    expect(await error("setup", "--repo")).toMatchObject({ code: "USAGE_MISSING_VALUE", message: "--repo needs a value" });
    expect((await error("setup", "--repo", "--no-test-install")).code).toBe("USAGE_MISSING_VALUE");
    expect((await error("keys", "revoke", "--serial")).next).toContain("pkgtrust keys revoke --help");
  });

  it("refuse a value given to a flag and an option given twice", async () => {
    expect((await error("status", "--json=yes")).code).toBe("USAGE_BAD_VALUE");
    expect((await error("setup", "--repo", "a", "--repo", "b")).code).toBe("USAGE_BAD_OPTION");
  });

  it("suggest the command or subcommand meant", async () => {
    expect(await error("stauts")).toMatchObject({ code: "USAGE_UNKNOWN_COMMAND", message: "unknown command 'stauts'; did you mean status?" });
    const sub = await error("keys", "revok");
    expect(sub).toMatchObject({ code: "USAGE_UNKNOWN_COMMAND", message: "unknown subcommand 'keys revok'; did you mean revoke?" });
    expect(sub.next).toContain("pkgtrust keys --help");
    expect((await error("bundle", "frobnicate")).message).toContain("the subcommands are build, lint");
    expect((await error("--rpeo")).code).toBe("USAGE_UNKNOWN_OPTION");
  });

  it("never leave a placeholder in the next step", async () => {
    const lines = [["setup", "--rpeo"], ["verify-package"], ["verify-bundle", "b.pem", "--at", "yesterday"], ["keys"], ["bundle", "lint"], ["anchors", "look"], ["sign-package", "in"]];
    for (const argv of lines) {
      const found = await error(...argv);
      expect(found.next, argv.join(" ")).not.toMatch(/COMMAND/);
      expect(found.next, argv.join(" ")).toMatch(/pkgtrust [a-z-]+/);
    }
  });
});

describe("options declared once, by their zod schema", () => {
  it("take a value unless the field is a boolean under its optional, default and pipe wrappers", () => {
    const schema = z.object({
      repo: z.string().min(1).optional(),
      days: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int()).default(30),
      json: z.boolean().default(false),
      force: z.boolean().optional(),
      piped: z.boolean().pipe(z.boolean()),
    });
    expect(optionSpecOf(schema)).toEqual({ repo: { type: "string" }, days: { type: "string" }, json: { type: "boolean" }, force: { type: "boolean" }, piped: { type: "boolean" } });
  });
});

describe("help", () => {
  it("for one subcommand shows that subcommand only", async () => {
    const revoke = await runCli(["keys", "revoke", "--help"]);
    expect(revoke.status).toBe(EXIT.OK);
    expect(revoke.stdout).toMatch(/^usage: pkgtrust keys revoke --ca-cert FILE/);
    expect(revoke.stdout).not.toMatch(/init-ca|issue-signing/);
    const lint = await runCli(["bundle", "lint", "-h"]);
    expect(lint.stdout).toMatch(/^usage: pkgtrust bundle lint pkg_keys\.pem/);
    expect(lint.stdout).not.toContain("bundle build");
  });

  it("for a group lists every subcommand, within 80 columns", async () => {
    const keys = await runCli(["keys", "--help"]);
    for (const name of ["init-ca", "issue-intermediate", "issue-signing", "revoke", "crl"]) expect(keys.stdout).toContain(`pkgtrust keys ${name}`);
    const summary = keys.stdout.slice(keys.stdout.indexOf("\n\n"));
    expect(summary.split("\n").filter((line) => line.length > 80)).toEqual([]);
  });
});

describe("--at", () => {
  it("takes ISO 8601 dates as 00:00 UTC and date-times with or without a zone", () => {
    expect(parseIsoTime("2020-01-01")?.toISOString()).toBe("2020-01-01T00:00:00.000Z");
    expect(parseIsoTime("2020-01-01T12:30")?.toISOString()).toBe("2020-01-01T12:30:00.000Z");
    expect(parseIsoTime("2020-01-01T12:30:15.25+02:00")?.toISOString()).toBe("2020-01-01T10:30:15.250Z");
    expect(parseIsoTime("2020-01-01T12:30:15-0130")?.toISOString()).toBe("2020-01-01T14:00:15.000Z");
    expect(parseIsoTime("2020-01-01t00:00:00z")?.toISOString()).toBe("2020-01-01T00:00:00.000Z");
  });

  it("refuses impossible dates and other words", () => {
    for (const bad of ["2020-02-30", "2020-13-01", "2020-01-01T24:00", "2020-01-01T10:60", "20200101", "yesterday", "2020-1-1", ""]) expect(parseIsoTime(bad), bad).toBeUndefined();
  });

  it("is accepted by verify-bundle as a bare date", async () => {
    const result = await runCli(["verify-bundle", "/nonexistent.pem", "--anchor", "/nonexistent.pem", "--at", "2020-01-01", "--json"]);
    // Past option parsing: the file is what fails.
    expect(result.json.error.code).toBe("INPUT_UNREADABLE");
    expect((await error("verify-package", "p.tgz", "--anchor", "a.pem", "--at", "2020-02-30")).code).toBe("USAGE_BAD_VALUE");
  });
});

describe("suggestions", () => {
  it("measure swaps of neighbours as one edit", () => {
    expect(editDistance("rpeo", "repo")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("offer only close words, or the one word a prefix starts", () => {
    expect(closest("--nnon-interactive", ["--non-interactive", "--json"])).toBe("--non-interactive");
    expect(closest("--xyz", ["--repo", "--root"])).toBeUndefined();
    expect(closest("--non", ["--non-interactive", "--no-test-install"])).toBe("--non-interactive");
    expect(closest("--no", ["--non-interactive", "--no-test-install"])).toBeUndefined();
  });
});
