/**
 * A silent server is no unmoving "[ .. ] Fetch the key bundle": the plain report on a terminal
 * shows the time waited, the attempt and when the download gives up, and every face says why
 * an attempt is retried. A real server on 127.0.0.1 that never answers; shortened limits.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSetup } from "../../src/bootstrap/setup.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { plainReporter } from "../../src/cli/reporter.js";
import { testFetcher, testLimits } from "../fixtures/fetcher.js";
import { NOW } from "../fixtures/pki.js";
import { faults } from "../fixtures/repo-server.js";
import { makeWorld, type World } from "../hostile/support/world.js";

let world: World;
let silent: string;

beforeAll(async () => {
  world = await makeWorld("silent");
  silent = await world.tree("silent", world.trust.ca.certPem + world.trust.build.certPem);
  world.server.routes.set("/silent/All/pkg_keys.pem", faults.stall());
});
afterAll(() => world?.close());

function capture() {
  let text = "";
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
  return { stream, text: () => text };
}

async function setupAgainstSilentServer(interactive: boolean) {
  const out = capture();
  const err = capture();
  const limits = testLimits({ timeouts: { connectMs: 2000, headersMs: 400, bodyMs: 400 } });
  const outcome = await runSetup(
    { repository: silent, root: new TargetRoot(world.target()), anchorPath: DEFAULT_ANCHOR, testInstall: true },
    { fetcher: testFetcher({ limits }), limits, now: NOW, cwd: world.www, emit: plainReporter({ stdout: out.stream, stderr: err.stream }, interactive) },
  );
  return { outcome, stdout: out.text(), stderr: err.text() };
}

describe("plain report of a server that never answers", () => {
  it("on a terminal: the time waited, each attempt of four and when it gives up, then the failure", async () => {
    const { outcome, stdout, stderr } = await setupAgainstSilentServer(true);
    expect(!outcome.ok && outcome.error.code).toBe("FETCH_TIMEOUT");
    for (const attempt of [1, 2, 3, 4]) expect(stdout).toMatch(new RegExp(`\\r    no answer yet: \\d+s, attempt ${attempt} of 4, gives up in \\d+m\\d\\ds`));
    expect(stdout).toContain("retrying (attempt 2 of 4): ");
    expect(stdout).toContain("[FETCH_TIMEOUT]");
    expect(stderr).toContain('FAILED at "Fetch the key bundle"');
  }, 30_000);

  it("elsewhere (a log): one line per retry, no redrawn line", async () => {
    const { outcome, stdout } = await setupAgainstSilentServer(false);
    expect(!outcome.ok && outcome.error.code).toBe("FETCH_TIMEOUT");
    expect(stdout.match(/^ {4}retrying \(attempt \d of 4\): .*\[FETCH_TIMEOUT\]$/gm)).toHaveLength(3);
    expect(stdout).not.toContain("\r");
  }, 30_000);
});
