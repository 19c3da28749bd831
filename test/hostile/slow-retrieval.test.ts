/**
 * The slow-retrieval attack (TUF): a mirror that sends one byte now and then is never idle
 * long enough for the body timeout, so without a total deadline setup read it for ever (a
 * byte per 20 s was still being read after 600 s). Every download has a deadline sized from
 * its cap and a minimum rate (FETCH_DEADLINE), and the whole run one (SETUP_DEADLINE); both
 * leave the system as it was. The limits are shortened through the injected fetcher.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSetup } from "../../src/bootstrap/setup.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import type { Limits } from "../../src/limits.js";
import { testFetcher, testLimits } from "../fixtures/fetcher.js";
import { NOW } from "../fixtures/pki.js";
import { faults } from "../fixtures/repo-server.js";
import { snapshotTree } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;
let good: string;

beforeAll(async () => {
  world = await makeWorld("slow");
  const { trust } = world;
  good = await world.tree("good", trust.ca.certPem + trust.build.certPem);
  await world.tree("trickle-keys", trust.ca.certPem + trust.build.certPem);
  await world.tree("trickle-package", trust.ca.certPem + trust.build.certPem);
  // A byte every 100 ms: well inside the 500 ms body timeout of testLimits, for as long as the client listens.
  world.server.routes.set("/trickle-keys/All/pkg_keys.pem", faults.trickle(100));
  world.server.routes.set("/trickle-package/All/digest-20220214.tgz", faults.trickle(100));
});
afterAll(() => world?.close());

async function setup(repository: string, target: string, limits: Limits) {
  return runSetup(
    { repository, root: new TargetRoot(target), anchorPath: DEFAULT_ANCHOR, testInstall: true },
    { fetcher: testFetcher({ limits }), limits, now: NOW, cwd: world.www, emit: () => undefined },
  );
}

describe("a server trickling one byte at a time", () => {
  it("ends the key bundle's download at its deadline (cap / minimum rate + grace) with FETCH_DEADLINE", async () => {
    const target = world.target({ config: "# mine\n" });
    const before = snapshotTree(target);
    // 1 MiB at 1 MiB/s plus 0.5 s: 1.5 s, where the trickle would need 10^6 * 100 ms.
    const outcome = await setup(good.replace("/good/", "/trickle-keys/"), target, testLimits({ minBytesPerSecond: 1 << 20, deadlineGraceMs: 500 }));
    expect(!outcome.ok && outcome.error.code).toBe("FETCH_DEADLINE");
    expect(!outcome.ok && outcome.failure.step).toBe("fetch");
    expect(snapshotTree(target)).toEqual(before);
  }, 30_000);

  it("ends the whole run at its deadline with SETUP_DEADLINE, and puts back what it wrote", async () => {
    const target = world.target({ config: "# mine\nPKG_PATH=/mine\n", pkgin: true });
    const before = snapshotTree(target);
    // Each download may take hours at this rate; the run may take 2 s, and the test package trickles.
    const limits = testLimits({ minBytesPerSecond: 1, setupDeadlineMs: 2000 });
    const outcome = await setup(good.replace("/good/", "/trickle-package/"), target, limits);
    expect(!outcome.ok && outcome.error.code).toBe("SETUP_DEADLINE");
    expect(!outcome.ok && outcome.failure).toMatchObject({ step: "test-install", unchanged: true });
    expect(snapshotTree(target)).toEqual(before);
  }, 30_000);

  it("still sets up from an honest server with the same short deadlines", async () => {
    const target = world.target();
    const outcome = await setup(good, target, testLimits({ minBytesPerSecond: 1 << 20, deadlineGraceMs: 1500, setupDeadlineMs: 20_000 }));
    expect(outcome.ok, JSON.stringify(!outcome.ok && outcome.failure)).toBe(true);
  }, 30_000);
});
