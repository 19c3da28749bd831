/**
 * The lock against concurrent runs: an empty or half-written lock file is a run that has just
 * started, not a dead one; and when the owner is dead, exactly one of the runs that see it at
 * the same moment may take it over. Real processes race here (the built lock module).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLock, LOCK_GRACE_MS } from "../../src/config/lock.js";

const built = new URL("../../build/src/config/lock.js", import.meta.url);
let base: string;
let locks = 0;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "pkgtrust-hostile-lock-"));
});
afterAll(() => rm(base, { recursive: true, force: true }));

async function lockPath(content?: string, ageMs = 0): Promise<string> {
  const dir = path.join(base, `l${locks++}`, "etc/pkgtrust");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, ".lock");
  if (content !== undefined) {
    await writeFile(file, content);
    const when = new Date(Date.now() - ageMs);
    await utimes(file, when, when);
  }
  return file;
}

describe("a lock without a complete pid", () => {
  it("counts an empty lock file as held within the grace period, and leaves it alone", async () => {
    const file = await lockPath("");
    await expect(acquireLock(file)).rejects.toThrowWithCode("CONFIG_LOCKED");
    expect(await readFile(file, "utf8")).toBe("");
  });

  it("counts a partly written pid as held too", async () => {
    const file = await lockPath("99999999");
    await expect(acquireLock(file)).rejects.toThrowWithCode("CONFIG_LOCKED");
  });

  it("takes over an empty lock left for longer than the grace period", async () => {
    const file = await lockPath("", LOCK_GRACE_MS + 60_000);
    const lock = await acquireLock(file);
    expect((await readFile(file, "utf8")).trim()).toBe(String(process.pid));
    await lock.release();
  });

  it("never shows its own lock empty: the file appears with the pid in it", async () => {
    const file = await lockPath();
    const lock = await acquireLock(file);
    expect(await readFile(file, "utf8")).toBe(`${process.pid}\n`);
    await lock.release();
    expect(await readdir(path.dirname(file))).toEqual([]);
  });

  it("removes the pid file a run killed before its link(2) left beside the lock, and keeps a live run's", async () => {
    const file = await lockPath();
    const dead = path.join(path.dirname(file), "..lock.pkgtrust-tmp-999999999-0badf00d");
    const live = path.join(path.dirname(file), `..lock.pkgtrust-tmp-${process.ppid}-0badf00d`);
    await writeFile(dead, "999999999\n");
    await writeFile(live, `${process.ppid}\n`);
    const lock = await acquireLock(file);
    await lock.release();
    expect(await readdir(path.dirname(file))).toEqual([path.basename(live)]);
  });
});

/**
 * A contender: waits for "go" on stdin, tries the lock, and when it gets it holds it for a
 * while; prints "held START END" or "locked".
 */
const contender = `
const { acquireLock } = await import(process.argv[1]);
process.stdin.once("data", async () => {
  try {
    const lock = await acquireLock(process.argv[2]);
    const start = performance.timeOrigin + performance.now();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const end = performance.timeOrigin + performance.now();
    await lock.release();
    process.stdout.write("held " + start + " " + end + "\\n");
  } catch (error) {
    process.stdout.write((error.code === "CONFIG_LOCKED" ? "locked" : "error " + error.code + " " + error.message) + "\\n");
  }
});
process.stdout.write("ready\\n");
`;

function startContender(file: string): { child: ChildProcess; ready: Promise<void>; result: Promise<string> } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", contender, built.href, file], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith("ready\n")) onReady();
  });
  const result = new Promise<string>((resolve) => child.once("exit", () => resolve(out.slice("ready\n".length).trim())));
  return { child, ready, result };
}

describe("taking over a dead run's lock", () => {
  const ROUNDS = 12;
  const CONTENDERS = 6;

  it(`lets exactly one of ${CONTENDERS} racing processes hold it at a time, over ${ROUNDS} rounds`, async () => {
    expect(existsSync(built), "run 'npm run build' first (npm test does)").toBe(true);
    let holders = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // A pid that is not running: the owner was killed.
      const file = await lockPath("999999999\n");
      const contenders = Array.from({ length: CONTENDERS }, () => startContender(file));
      await Promise.all(contenders.map((c) => c.ready));
      for (const c of contenders) c.child.stdin?.end("go\n");
      const results = await Promise.all(contenders.map((c) => c.result));
      expect(results.filter((r) => r.startsWith("error")), results.join("\n")).toEqual([]);
      const held = results.filter((r) => r.startsWith("held")).map((r) => r.split(" ").slice(1).map(Number) as [number, number]);
      expect(held.length, `round ${round}: ${results.join(", ")}`).toBeGreaterThanOrEqual(1);
      held.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < held.length; i++) {
        expect((held[i] as [number, number])[0], `round ${round}: two holders at once`).toBeGreaterThanOrEqual((held[i - 1] as [number, number])[1]);
      }
      holders += held.length;
      // Nothing of the race stays behind: no lock, no takeover marker, no temporary file.
      expect(await readdir(path.dirname(file))).toEqual([]);
    }
    expect(holders).toBeGreaterThanOrEqual(ROUNDS);
  }, 180_000);
});
