/**
 * Signals at random moments: `pkgtrust setup --non-interactive --json` (the built single
 * file, test-install included, against a real server on 127.0.0.1) gets SIGINT, SIGTERM or
 * SIGHUP over and over. Each run must end with the whole set of files (pkg_install.conf and
 * its backup, both trust files, state.json, pkgin's repositories.conf) exactly as before it
 * (exit 130, a JSON failure INTERRUPTED on stdout, nothing left behind: no lock, journal or
 * temporary file) or exactly as a finished run leaves them (exit 0, its JSON): no recovery
 * run in between. A signal before Node has run pkgtrust's code at all kills the process with
 * the default action, before anything was read or written. Before, a signal during the
 * test-install left the new configuration, printed no JSON and left the lock file.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "../fixtures/process.js";
import { normalisedTree, rotationTrees } from "./support/rotation.js";
import { makeWorld, type World } from "./support/world.js";

const BIN = fileURLToPath(new URL("../../dist/pkgtrust.mjs", import.meta.url));
const TRIALS = 102;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const env = { PATH: process.env.PATH ?? "", PKGTRUST_PKG_ADD: "none" };

let world: World;
let work: string;
let oldRepo: string;
let newRepo: string;

beforeAll(async () => {
  expect(existsSync(BIN), "run 'npm run build' first (npm test does)").toBe(true);
  world = await makeWorld("signal");
  // A slower test package widens the window in which a signal hits the test-install, after the write.
  ({ oldRepo, newRepo } = await rotationTrees(world, 150));
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-signal-"));
});
afterAll(async () => {
  await world?.close();
  rmSync(work, { recursive: true, force: true });
});

const args = (target: string, repo: string) => [BIN, "setup", "--repo", repo, "--root", target, "--non-interactive", "--json"];

function signalledSetup(target: string, repo: string, signal: NodeJS.Signals, at: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args(target, repo), { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    const timer = setTimeout(() => child.kill(signal), at);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", (code, killedBy) => {
      clearTimeout(timer);
      resolve({ code, signal: killedBy, stdout });
    });
  });
}

describe("SIGINT, SIGTERM and SIGHUP during setup", () => {
  it(`end in the old set (exit 130, JSON failure) or the new set (exit 0), over ${TRIALS} signals at random moments`, async () => {
    const template = path.join(work, "configured");
    cpSync(world.target({ config: "# admin\nPKG_PATH=/mine\n", pkgin: true }), template, { recursive: true });
    expect((await runProcess(process.execPath, args(template, oldRepo), { env })).status).toBe(0);
    const oldSet = normalisedTree(template);
    const finished = path.join(work, "finished");
    cpSync(template, finished, { recursive: true });
    const started = Date.now();
    expect((await runProcess(process.execPath, args(finished, newRepo), { env })).status).toBe(0);
    const duration = Date.now() - started;
    const newSet = normalisedTree(finished);

    const ended = { old: 0, new: 0, beforeHandlers: 0, diedAfterCommit: 0, rolledBack: 0 };
    const steps: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const target = path.join(work, `t${trial}`);
      cpSync(template, target, { recursive: true });
      const signal = SIGNALS[trial % SIGNALS.length] as NodeJS.Signals;
      const at = Math.random() * duration * 1.1;
      const run = await signalledSetup(target, newRepo, signal, at);
      const where = `trial ${trial} (${signal} at ${at.toFixed(0)} of ${duration} ms)`;
      const after = normalisedTree(target);
      if (run.signal !== null) {
        // Node had not yet run pkgtrust's code (nothing was read or written), or, rarely (1 of 102
        // once), the process died of the signal after the commit: the old set or the whole new one.
        expect(run.signal, where).toBe(signal);
        if (isDeepStrictEqual(after, newSet)) ended.diedAfterCommit++;
        else {
          expect(after, where).toEqual(oldSet);
          ended.beforeHandlers++;
        }
      } else if (run.code === 0) {
        expect(JSON.parse(run.stdout), where).toMatchObject({ ok: true });
        expect(after, where).toEqual(newSet);
        ended.new++;
      } else {
        expect(run.code, `${where}: ${run.stdout}`).toBe(130);
        const report = JSON.parse(run.stdout);
        expect(report, where).toMatchObject({ ok: false, failure: { code: "INTERRUPTED", unchanged: true, notRestored: [] }, error: { exit: 130, detail: { signal } } });
        expect(after, where).toEqual(oldSet);
        ended.old++;
        steps[report.failure.step] = (steps[report.failure.step] ?? 0) + 1;
        if (report.failure.step === "test-install" || report.failure.step === "write") ended.rolledBack++;
      }
      rmSync(target, { recursive: true, force: true });
    }
    console.log(`signals during setup: ${JSON.stringify(ended)}, interrupted at ${JSON.stringify(steps)} of ${TRIALS} trials (setup takes ${duration} ms)`);
    // The loop really interrupted runs, some of them after the first write (a real rollback).
    expect(ended.old, JSON.stringify(ended)).toBeGreaterThan(TRIALS / 4);
    expect(ended.rolledBack, JSON.stringify({ ended, steps })).toBeGreaterThan(TRIALS / 20);
  }, 900_000);
});
