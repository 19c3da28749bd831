/**
 * Freeze and clock attacks with CRLs (TUF indefinite freeze): a mirror that keeps serving a
 * CRL past its nextUpdate must be refused by the very first setup, not only by refresh, and by
 * verify-bundle as bundle lint does; a CRL whose thisUpdate lies in the future beyond the
 * clock-skew allowance is refused too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRL_CLOCK_SKEW_MS } from "../../src/trust/bundle-rules.js";
import { EXIT } from "../../src/errors.js";
import { NOW } from "../fixtures/pki.js";
import { snapshotTree } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

const DAY_MS = 86_400_000;
let world: World;
let stale: string;
let future: string;
let skewed: string;

beforeAll(async () => {
  world = await makeWorld("crl");
  const { pki, trust } = world;
  const good = trust.ca.certPem + trust.build.certPem;
  stale = good + (await pki.crl(trust.ca, [], { number: 4, thisUpdate: new Date(NOW.getTime() - 40 * DAY_MS), nextUpdate: new Date(NOW.getTime() - DAY_MS) })).pem;
  future = good + (await pki.crl(trust.ca, [], { number: 4, thisUpdate: new Date(NOW.getTime() + 3_600_000), nextUpdate: new Date(NOW.getTime() + 30 * DAY_MS) })).pem;
  skewed = good + (await pki.crl(trust.ca, [], { number: 4, thisUpdate: new Date(NOW.getTime() + CRL_CLOCK_SKEW_MS / 2), nextUpdate: new Date(NOW.getTime() + 30 * DAY_MS) })).pem;
  await world.tree("stale", stale);
  await world.tree("future", future);
  await world.tree("skewed", skewed);
});
afterAll(() => world?.close());

describe("setup applies the CRL's time window from the first run on", () => {
  it("refuses a CRL past its nextUpdate on a fresh system and changes nothing", async () => {
    const target = world.target({ config: "# admin\n" });
    const before = snapshotTree(target);
    const result = await world.cli(["setup", "--root", target, "--repo", new URL("stale/All/", world.server.httpUrl).href, "--json"]);
    expect(result.json.error.code).toBe("BOOT_STALE_CRL");
    expect(result.status).toBe(EXIT.STALE);
    expect(snapshotTree(target)).toEqual(before);
  });

  it("refuses a CRL issued in the future beyond the clock-skew allowance", async () => {
    const target = world.target();
    const before = snapshotTree(target);
    const result = await world.cli(["setup", "--root", target, "--repo", new URL("future/All/", world.server.httpUrl).href, "--json"]);
    expect(result.json.error.code).toBe("BOOT_CRL_NOT_YET_VALID");
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(snapshotTree(target)).toEqual(before);
  });

  it("accepts a CRL whose thisUpdate is ahead by less than the allowance", async () => {
    const result = await world.cli(["setup", "--root", world.target(), "--repo", new URL("skewed/All/", world.server.httpUrl).href, "--json"]);
    expect(result.status, result.stdout).toBe(EXIT.OK);
  });

  it("refresh refuses a CRL from the future too", async () => {
    const target = world.target();
    await world.tree("later", world.trust.ca.certPem + world.trust.build.certPem);
    expect((await world.cli(["setup", "--root", target, "--repo", new URL("later/All/", world.server.httpUrl).href, "--json"])).status).toBe(EXIT.OK);
    world.publish("later", future);
    const result = await world.cli(["refresh", "--root", target, "--json"]);
    expect(result.json.error.code).toBe("BOOT_CRL_NOT_YET_VALID");
  });
});

describe("verify-bundle and bundle lint judge the same window", () => {
  const verify = (bundle: string) => world.cli(["verify-bundle", world.pki.writePem(`b-${Math.random()}.pem`, bundle), "--anchor", world.trust.root.certPath, "--json"]);

  it("verify-bundle fails a stale CRL and one from the future, naming the CRL", async () => {
    for (const [bundle, code] of [
      [stale, "BOOT_STALE_CRL"],
      [future, "BOOT_CRL_NOT_YET_VALID"],
    ] as const) {
      const result = await verify(bundle);
      expect(result.status, code).toBe(EXIT.UNTRUSTED);
      expect(result.json.valid).toBe(false);
      expect(result.json.crls[0]).toMatchObject({ status: "invalid", code });
    }
    expect((await verify(skewed)).status).toBe(EXIT.OK);
  });

  it("bundle lint fails a CRL from the future as an error", async () => {
    const result = await world.cli(["bundle", "lint", world.pki.writePem("lint-future.pem", future), "--anchor", world.trust.root.certPath, "--json"]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.errors.map((e: { code: string }) => e.code)).toEqual(["BOOT_CRL_NOT_YET_VALID"]);
  });
});
