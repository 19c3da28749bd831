/**
 * The single file's size, as README.md and docs/releng.md state it (release engineering
 * plans the install medium's space with it), stays within 10% of dist/pkgtrust.mjs.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./doc-runner.js";

const DIST = path.join(REPO_ROOT, "dist/pkgtrust.mjs");

describe("the single file's documented size", () => {
  for (const document of ["README.md", "docs/releng.md"]) {
    it(`in ${document} is the built file's`, () => {
      expect(existsSync(DIST), "run 'npm run build' first (npm test does)").toBe(true);
      const text = readFileSync(path.join(REPO_ROOT, document), "utf8");
      const stated = /one file of ([\d.]+) MiB/.exec(text)?.[1];
      expect(stated, `${document} says "one file of N MiB"`).toBeDefined();
      const actual = statSync(DIST).size / 1024 / 1024;
      expect(Math.abs(Number(stated) - actual) / actual).toBeLessThan(0.1);
    });
  }
});
