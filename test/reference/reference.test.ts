import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runProcess } from "../fixtures/process.js";

/** The built wrapper (npm test builds first), loaded in a fresh process with a compiler that does not exist. */
const BUILT = fileURLToPath(new URL("../../build/test/reference/reference.js", import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), "pkgtrust-reference-cc-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const load = (env: Record<string, string>) =>
  runProcess(process.execPath, [BUILT], { cwd: scratch, env: { PATH: process.env.PATH ?? "", TMPDIR: mkdtempSync(path.join(scratch, "t-")), CC: "/nonexistent/cc", ...env } });

describe("the C reference without a compiler", () => {
  it("is skipped with one notice naming the packages to install", async () => {
    const result = await load({});
    expect(result.status).toBe(0);
    expect(result.stderr.match(/NOTICE/g)).toHaveLength(1);
    expect(result.stderr).toContain("apt-get install gcc libssl-dev libarchive-dev");
  });

  it("fails under CI=true, so that CI never skips it silently", async () => {
    const result = await load({ CI: "true" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("apt-get install gcc libssl-dev libarchive-dev");
  });
});
