import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const built = new URL("../../build/src/config/transaction.js", import.meta.url);
const TRIALS = 100;

// A writer that rewrites the config in a loop, alternating two large versions, until killed.
const writer = `
const { FileTransaction } = await import(process.argv[1]);
const { TargetRoot } = await import(process.argv[2]);
const root = new TargetRoot(process.argv[3]);
const versions = [Buffer.alloc(300000, "a"), Buffer.alloc(200000, "b")];
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  const transaction = new FileTransaction(root, "/etc/pkgtrust/journal.json");
  await transaction.apply([{ targetPath: "/etc/pkg_install.conf", content: versions[i % 2], backup: true }]);
  await transaction.commit();
}
`;

let base: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "pkgtrust-crash-"));
});
afterAll(() => rm(base, { recursive: true, force: true }));

function runAndKill(targetDir: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", writer, built.href, new URL("../../build/src/config/target-root.js", import.meta.url).href, targetDir],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), delayMs));
    child.once("exit", () => resolve());
    child.once("error", reject);
  });
}

describe("crash safety", () => {
  it(`leaves the old or the new file, never a partial one, over ${TRIALS} SIGKILLs`, async () => {
    expect(existsSync(built), "run 'npm run build' first (npm test does)").toBe(true);
    const old = Buffer.from("VERIFIED_INSTALLATION=never\n");
    const accepted = [old.toString(), "a".repeat(300000), "b".repeat(200000)];
    for (let trial = 0; trial < TRIALS; trial++) {
      const target = path.join(base, `t${trial}`);
      await mkdir(path.join(target, "etc"), { recursive: true });
      await writeFile(path.join(target, "etc/pkg_install.conf"), old);
      await runAndKill(target, Math.floor(Math.random() * 40));
      const content = await readFile(path.join(target, "etc/pkg_install.conf"), "utf8");
      expect(accepted.includes(content), `trial ${trial}: partial file of ${content.length} bytes`).toBe(true);
      const leftovers = (await readdir(path.join(target, "etc"))).filter((n) => !n.includes("pkgtrust-tmp") && n !== "pkg_install.conf" && n !== "pkg_install.conf.pkgtrust-old" && n !== "pkgtrust");
      expect(leftovers).toEqual([]);
    }
    // A generous bound: the suite runs two files at once, and other crash trials spawn processes too.
  }, 300_000);
});
