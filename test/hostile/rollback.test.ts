/**
 * Rollback attacks (TUF): a mirror serves an older key bundle than the one accepted before - a
 * lower CRL number, no CRL, or an older certificate next to the current one. refresh refused
 * some of these; setup, run again for the same repository, accepted them all and recorded
 * the lower state. --reset-state is the explicit way to start over.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as x509 from "../../src/pki/x509.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crlNumbersByIssuer, parseState } from "../../src/config/state.js";
import { EXIT } from "../../src/errors.js";
import { canonicalNameDer } from "../../src/pki/name.js";
import type { Issued } from "../fixtures/pki.js";
import { snapshotTree, snapshotWithoutRefreshRecord } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;
let good: string;
let crl1: string;
let crl2: string;
/** build machine again: same subject and key, an earlier notBefore (a superseded certificate). */
let olderBuild: Issued;
let trees = 0;

beforeAll(async () => {
  world = await makeWorld("rollback");
  const { pki, trust } = world;
  good = trust.ca.certPem + trust.build.certPem;
  crl1 = (await pki.crl(trust.ca, [], { number: 1, nextUpdate: new Date("2030-01-01") })).pem;
  crl2 = (await pki.crl(trust.ca, [], { number: 2, nextUpdate: new Date("2030-01-01") })).pem;
  olderBuild = await pki.signer(trust.ca, "build machine", { reuseKeyOf: trust.build, notBefore: new Date("2019-01-01") });
});
afterAll(() => world?.close());

/** A repository tree serving `bundle` and a target configured from it by setup. */
async function configured(bundle: string) {
  const name = `r${trees++}`;
  const url = await world.tree(name, bundle);
  const target = world.target({ config: "# admin\n" });
  const first = await world.cli(["setup", "--root", target, "--repo", url, "--json"]);
  expect(first.status, first.stdout).toBe(EXIT.OK);
  return { name, url, target };
}

const state = (target: string) => JSON.parse(readFileSync(path.join(target, "etc/pkgtrust/state.json"), "utf8"));
/** The CRL numbers state.json records, by issuer as people read it. */
const crlNumbers = (target: string) => crlNumbersByIssuer(parseState(readFileSync(path.join(target, "etc/pkgtrust/state.json")), "state.json"));

describe("setup run again for the same repository applies refresh's rules", () => {
  it("refuses a lower CRL number and changes nothing", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, good + crl1);
    const before = snapshotTree(target);
    const again = await world.cli(["setup", "--root", target, "--repo", url, "--json"]);
    expect(again.json.error.code).toBe("BOOT_ROLLBACK");
    expect(again.status).toBe(EXIT.STALE);
    expect(snapshotTree(target)).toEqual(before);
    // And refresh still sees the number accepted first.
    expect((await world.cli(["refresh", "--root", target, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("refuses a bundle whose CRL disappeared", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, good);
    expect((await world.cli(["setup", "--root", target, "--repo", url, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("applies the rules when the repository is given without its final All/", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, good + crl1);
    const bare = url.replace(/All\/$/, "");
    expect((await world.cli(["setup", "--root", target, "--repo", bare, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("starts over with --reset-state, saying what it forgets", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, good + crl1);
    const reset = await world.cli(["setup", "--root", target, "--repo", url, "--reset-state", "--json"]);
    expect(reset.status, reset.stdout).toBe(EXIT.OK);
    expect(reset.json.forgottenState).toMatchObject({ repository: url, crlNumbers: { "CN=pkgsrc developer CA": "2" }, reason: "reset-state" });
    expect(crlNumbers(target)).toEqual({ "CN=pkgsrc developer CA": "1" });
    const plain = await world.cli(["setup", "--root", target, "--repo", url, "--reset-state", "--non-interactive"]);
    expect(plain.status).toBe(EXIT.OK);
    expect(plain.stdout).toMatch(/forgets the state accepted .*CRL number 1 of CN=pkgsrc developer CA/);
  });

  it("takes reset-state from an answer file", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, good);
    const answers = path.join(world.www, `reset-${trees}.conf`);
    writeFileSync(answers, `repo=${url}\nreset-state=yes\njson=yes\n`);
    const reset = await world.cli(["setup", "--root", target, "--answers", answers]);
    expect(reset.status, reset.stdout).toBe(EXIT.OK);
    expect(crlNumbers(target)).toEqual({});
  });

  it("refuses to guess from an unreadable state.json, and replaces it with --reset-state", async () => {
    const { url, target } = await configured(good + crl2);
    writeFileSync(path.join(target, "etc/pkgtrust/state.json"), "{ damaged");
    const refused = await world.cli(["setup", "--root", target, "--repo", url, "--json"]);
    expect(refused.json.error.code).toBe("CONFIG_STATE_INVALID");
    const reset = await world.cli(["setup", "--root", target, "--repo", url, "--reset-state", "--json"]);
    expect(reset.status, reset.stdout).toBe(EXIT.OK);
    expect(crlNumbers(target)).toEqual({ "CN=pkgsrc developer CA": "2" });
  });

  it("replaces the state of another repository and says so", async () => {
    const { target } = await configured(good + crl2);
    const other = await world.tree(`other${trees}`, good);
    const result = await world.cli(["setup", "--root", target, "--repo", other, "--json"]);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(result.json.forgottenState).toMatchObject({ reason: "other-repository", crlNumbers: { "CN=pkgsrc developer CA": "2" } });
    expect(state(target).repository).toBe(other);
  });
});

describe("an older certificate next to the current one", () => {
  it("refresh refuses dev CA, build1, an older build1 and the CRL, and writes neither build1", async () => {
    const { name, target } = await configured(good + crl2);
    world.publish(name, good + olderBuild.certPem + crl2);
    const before = snapshotWithoutRefreshRecord(target);
    const refreshed = await world.cli(["refresh", "--root", target, "--json"]);
    expect(refreshed.json.error.code).toBe("BOOT_ROLLBACK");
    expect(refreshed.json.error.detail).toMatchObject({ subject: "CN=build machine" });
    expect(snapshotWithoutRefreshRecord(target)).toEqual(before);
  });

  it("setup for the same repository refuses it too", async () => {
    const { name, url, target } = await configured(good + crl2);
    world.publish(name, olderBuild.certPem + good + crl2);
    expect((await world.cli(["setup", "--root", target, "--repo", url, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("still accepts a newer certificate for the same subject and key (renewal)", async () => {
    const { name, target } = await configured(olderBuild.certPem + world.trust.ca.certPem + crl2);
    world.publish(name, good + crl2);
    const refreshed = await world.cli(["refresh", "--root", target, "--json", "--no-test-install"]);
    expect(refreshed.status, refreshed.stdout).toBe(EXIT.OK);
  });
});

describe("a version 1 state.json, which keyed CRL numbers by the issuer's display string", () => {
  const statePath = (target: string) => path.join(target, "etc/pkgtrust/state.json");
  /** The state as pkgtrust 0.1 wrote it: the setup's own facts in the old form, with `crlNumber` for the developer CA. */
  function writeVersion1(target: string, crlNumber: string) {
    const now = state(target);
    writeFileSync(
      statePath(target),
      `{
  "version": 1,
  "repository": ${JSON.stringify(now.repository)},
  "repositoryId": ${JSON.stringify(now.repositoryId)},
  "anchorFile": ${JSON.stringify(now.anchorFile)},
  "configFile": ${JSON.stringify(now.configFile)},
  "acceptedAt": "2020-06-01T00:00:00.000Z",
  "files": ${JSON.stringify(now.files)},
  "certificates": ${JSON.stringify(now.certificates)},
  "crlNumbers": {
    "CN=pkgsrc developer CA": "${crlNumber}"
  }
}
`,
    );
  }
  /** SHA-256 of the canonical encoding (X509_NAME_cmp's form) of the developer CA's Name. */
  const caKey = () => createHash("sha256").update(canonicalNameDer(new x509.X509Certificate(world.trust.ca.certPem).subjectName.toArrayBuffer())).digest("hex");

  it("refuses a lower CRL number or a missing CRL as before, and leaves the old file as it is", async () => {
    const { name, target } = await configured(good + crl2);
    writeVersion1(target, "2");
    world.publish(name, good + crl1);
    const before = snapshotWithoutRefreshRecord(target);
    const lower = await world.cli(["refresh", "--root", target, "--json"]);
    expect(lower.json.error).toMatchObject({ code: "BOOT_ROLLBACK", detail: { issuer: "CN=pkgsrc developer CA", accepted: "2", offered: "1" } });
    world.publish(name, good);
    expect((await world.cli(["refresh", "--root", target, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
    expect(snapshotWithoutRefreshRecord(target)).toEqual(before);
  });

  it("is rewritten in version 2, keyed by the issuer's canonical Name, on the next successful write; the refusals still fire", async () => {
    const { name, target } = await configured(good + crl2);
    writeVersion1(target, "1");
    const refreshed = await world.cli(["refresh", "--root", target, "--json", "--no-test-install"]);
    expect(refreshed.status, refreshed.stdout).toBe(EXIT.OK);
    const migrated = state(target);
    expect(migrated.version).toBe(2);
    expect(migrated.crlNumbers).toBeUndefined();
    expect(migrated.crls).toEqual({ [caKey()]: { issuer: "CN=pkgsrc developer CA", number: "2" } });
    world.publish(name, good + crl1);
    expect((await world.cli(["refresh", "--root", target, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
    expect((await world.cli(["setup", "--root", target, "--repo", migrated.repository, "--json"])).json.error.code).toBe("BOOT_ROLLBACK");
  });

  it("counts an identical refresh after the migration as no new acceptance", async () => {
    const { target } = await configured(good + crl2);
    writeVersion1(target, "2");
    expect((await world.cli(["refresh", "--root", target, "--json", "--no-test-install"])).status).toBe(EXIT.OK);
    expect(state(target)).toMatchObject({ version: 2, acceptedAt: "2020-06-01T00:00:00.000Z" });
  });
});
