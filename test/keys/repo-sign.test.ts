import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, mkdtempSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signOutputSchema } from "../../src/cli/commands/repo.js";
import { runCli } from "../fixtures/cli.js";
import { NOW } from "../fixtures/pki.js";
import { expectPkgInstallAccepts, fileName, innerOf, readSummary, RepoKeys, summaryText, writePackages, writeSummaries, type PackageSpec } from "./repo-sign-fixture.js";

let keys: RepoKeys;
beforeAll(async () => {
  keys = await RepoKeys.create();
});
afterAll(() => keys?.cleanup());

const fresh = () => mkdtempSync(join(keys.pki.dir, "repo-"));
const sign = (dir: string, ...extra: string[]) => runCli([...keys.signArgs(dir), "--json", ...extra], { now: NOW });
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]));

describe("repo sign", () => {
  it("re-signs signed packages and signs unsigned ones; every result verifies, inner bytes unchanged, summary sizes updated", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "alpha-1.0" }, { pkgname: "beta-2.1nb3", payload: 200_000 }, { pkgname: "gamma-0.1", signed: false, payload: 70_000 }];
    const inners = await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs), { compressions: ["gz", "bz2", "xz"] });
    const before = readSummary(dir);
    const result = await sign(dir);
    expect(result.status, result.stdout).toBe(0);
    signOutputSchema.parse(result.json);
    expect(result.json.counts).toMatchObject({ packages: 3, resigned: 2, signed: 1, skipped: 0, failed: 0 });
    for (const spec of specs) {
      const file = join(dir, fileName(spec));
      await expectPkgInstallAccepts(file, keys.anchorPath);
      expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
    }
    for (const kind of ["gz", "bz2", "xz"] as const) {
      const after = readSummary(dir, kind);
      for (const spec of specs) expect(after).toContain(`FILE_NAME=${fileName(spec)}\nFILE_SIZE=${statSync(join(dir, fileName(spec))).size}\n`);
      // Every other line stays byte for byte.
      expect(after.replace(/^FILE_SIZE=.*$/gm, "")).toBe(before.replace(/^FILE_SIZE=.*$/gm, ""));
    }
  });

  it("is idempotent: a second run skips every package and changes no byte", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "one-1.0" }, { pkgname: "two-1.0", signed: false }];
    await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs));
    expect((await sign(dir)).status).toBe(0);
    const first = snapshot(dir);
    const again = await sign(dir);
    expect(again.json.counts).toMatchObject({ skipped: 2, resigned: 0, signed: 0 });
    expect(snapshot(dir)).toEqual(first);
  });
});
