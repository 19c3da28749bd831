/**
 * Kills at random moments: `pkgtrust setup` (the built binary, test-install included) is
 * SIGKILLed over and over, and after each kill the next run (`status`, as a monitoring job
 * or the admin would run it) must find the whole set of files - pkg_install.conf and its
 * backup, both trust files, state.json, pkgin's repositories.conf - exactly as before the
 * killed run or exactly as a finished run leaves them, with no journal, lock or temporary
 * file left. The kills are aimed at the whole run, the write step and the test-install. Before, 5 of 60 kills left the new pkg_install.conf without state.json.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/pkg-install-conf.js";
import { runProcess } from "../fixtures/process.js";
import { normalisedTree, rotationTrees } from "./support/rotation.js";
import { makeWorld, type World } from "./support/world.js";

// The single file an install medium carries (and the fastest to start, so more kills fit in the time).
const BIN = fileURLToPath(new URL("../../dist/pkgtrust.mjs", import.meta.url));
const TRIALS_PER_START = 60;
const env = { PATH: process.env.PATH ?? "", PKGTRUST_PKG_ADD: "none" };

let world: World;
let work: string;
let oldRepo: string;
let newRepo: string;

beforeAll(async () => {
  expect(existsSync(BIN), "run 'npm run build' first (npm test does)").toBe(true);
  world = await makeWorld("kill");
  // A slower test package download widens the window in which a kill hits the test-install.
  ({ oldRepo, newRepo } = await rotationTrees(world, 40));
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-kill-"));
});
afterAll(async () => {
  await world?.close();
  rmSync(work, { recursive: true, force: true });
});

function setup(target: string, repo: string) {
  return runProcess(process.execPath, [BIN, "setup", "--repo", repo, "--root", target, "--non-interactive"], { env });
}

/** Starts setup and SIGKILLs it: `at` ms after the line `marker` appears (or after the start when no marker is given). */
function killedSetup(target: string, repo: string, marker: string | undefined, at: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "setup", "--repo", repo, "--root", target, "--non-interactive"], { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    const kill = () => setTimeout(() => child.kill("SIGKILL"), at);
    if (marker === undefined) kill();
    child.stdout.on("data", (chunk: Buffer) => {
      const before = out;
      out += chunk.toString();
      if (marker !== undefined && !before.includes(marker) && out.includes(marker)) kill();
    });
    child.stderr.resume();
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(signal === "SIGKILL" ? "killed" : `exit ${code}`));
  });
}

const MARKERS = [undefined, "==> Write the pkg_install configuration", "==> Test-install a signed package"] as const;

describe("SIGKILL during setup", () => {
  for (const start of ["a fresh system", "a system configured before"] as const) {
    it(`leaves the old or the new set of files, after ${TRIALS_PER_START} kills on ${start}`, async () => {
      // The two sets every kill must end in, made by runs that were not killed.
      const template = path.join(work, start === "a fresh system" ? "fresh" : "configured");
      cpSync(world.target({ config: "# admin\nPKG_PATH=/mine\n", pkgin: true }), template, { recursive: true });
      if (start === "a system configured before") expect((await setup(template, oldRepo)).status).toBe(0);
      const oldSet = normalisedTree(template);
      const finished = path.join(work, `${path.basename(template)}-finished`);
      cpSync(template, finished, { recursive: true });
      const started = Date.now();
      expect((await setup(finished, newRepo)).status).toBe(0);
      const duration = Date.now() - started;
      const newSet = normalisedTree(finished);
      const oldConfig = readFileSync(path.join(template, "etc/pkg_install.conf"), "utf8");
      const newConfig = readFileSync(path.join(finished, "etc/pkg_install.conf"), "utf8");

      const ended = { old: 0, new: 0, killed: 0, midWrite: 0 };
      for (let trial = 0; trial < TRIALS_PER_START; trial++) {
        const target = path.join(work, `${path.basename(template)}-${trial}`);
        cpSync(template, target, { recursive: true });
        const marker = MARKERS[trial % MARKERS.length];
        const at = marker === undefined ? Math.random() * duration * 1.1 : Math.random() * 25;
        if ((await killedSetup(target, newRepo, marker, at)) === "killed") ended.killed++;
        // What pkg_install reads is never a partial file, even before any recovery.
        const config = readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8");
        expect([oldConfig, newConfig], `trial ${trial}: pkg_install.conf`).toContain(config);
        if (existsSync(path.join(target, "etc/pkgtrust/journal.json"))) ended.midWrite++;
        // The next run finishes what the killed one left (here pkgtrust status, in this process).
        const status = await world.cli(["status", "--root", target, "--json"]);
        const after = normalisedTree(target);
        const which = JSON.stringify(after) === JSON.stringify(oldSet) ? "old" : JSON.stringify(after) === JSON.stringify(newSet) ? "new" : undefined;
        if (which === undefined) expect(after, `trial ${trial} (${marker ?? "start"} + ${at.toFixed(1)} ms): neither the old nor the new set; status said ${status.stdout}`).toEqual(newSet);
        else ended[which]++;
        // status and refresh work again on what is there: a configured system stays configured.
        const settings = readSettings(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8"));
        if (settings.has("CERTIFICATE_ANCHOR_PKGS")) expect(status.json.repository, `trial ${trial}: ${status.stdout}`).toMatch(/\/(old|new)\/All\/$/);
        rmSync(target, { recursive: true, force: true });
      }
      // The loop really hit the write phase: some kills ended old, some new.
      expect(ended.killed, JSON.stringify(ended)).toBeGreaterThan(TRIALS_PER_START / 2);
      expect(ended.old, JSON.stringify(ended)).toBeGreaterThan(0);
      expect(ended.midWrite, `kills between the first write and the commit: ${JSON.stringify(ended)}`).toBeGreaterThan(TRIALS_PER_START / 6);
      console.log(`SIGKILL on ${start}: ${JSON.stringify(ended)} of ${TRIALS_PER_START} trials (setup takes ${duration} ms)`);
    }, 900_000);
  }
});
