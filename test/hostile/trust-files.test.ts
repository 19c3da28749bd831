/**
 * What a bundle can make pkgtrust write into the trust files: duplicated certificates (the
 * same block several times, the anchor itself), and a sub-CA under a pathLen:0 CA, which is
 * valid as a certificate but can issue nothing pkg_install would accept, so it has no place
 * among the trusted issuers. And a refresh that finds the same bundle must touch nothing.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { NOW } from "../fixtures/pki.js";
import { snapshotWithoutRefreshRecord } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;

beforeAll(async () => {
  world = await makeWorld("trust-files");
});
afterAll(() => world?.close());

/** The fingerprints in each trust file setup wrote into the target. */
function trustFiles(target: string) {
  const config = readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8");
  const file = (name: string) => {
    const target_path = new RegExp(`^${name}=(.*)$`, "m").exec(config)?.[1] ?? "";
    return readCertificateFile(readFileSync(path.join(target, target_path), "utf8"), target_path).certificates.map((c) => c.subject);
  };
  return { anchors: file("CERTIFICATE_ANCHOR_PKGS"), chain: file("CERTIFICATE_CHAIN") };
}

describe("the trust files hold each certificate once", () => {
  it("writes a certificate repeated in the bundle, or the anchor itself, only once", async () => {
    const { trust } = world;
    const url = await world.tree("dups", trust.root.certPem + trust.ca.certPem + trust.ca.certPem + trust.build.certPem + trust.build.certPem);
    const target = world.target();
    const result = await world.cli(["setup", "--root", target, "--repo", url, "--json"]);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(trustFiles(target)).toEqual({ anchors: ["CN=pkgsrc CA", "CN=pkgsrc developer CA"], chain: ["CN=pkgsrc developer CA", "CN=build machine"] });
    const state = JSON.parse(readFileSync(path.join(target, "etc/pkgtrust/state.json"), "utf8"));
    expect(new Set(state.certificates.map((c: { sha256: string }) => c.sha256)).size).toBe(state.certificates.length);
  });
});

describe("only usable issuers become trusted", () => {
  it("leaves a sub-CA under a pathLen:0 CA out of anchors.pem and chain.pem", async () => {
    const { pki, trust } = world;
    const dev = await pki.intermediate(trust.root, "pathlen zero CA", { pathLength: 0 });
    const sub = await pki.intermediate(dev, "useless sub-CA");
    const build = await pki.signer(dev, "build under pathlen zero");
    const url = await world.tree("pathlen", dev.certPem + sub.certPem + build.certPem, [{ pkgname: "digest-20220214", signer: build, chain: [dev] }]);
    const target = world.target();
    const result = await world.cli(["setup", "--root", target, "--repo", url, "--json"]);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(trustFiles(target)).toEqual({ anchors: ["CN=pkgsrc CA", "CN=pathlen zero CA"], chain: ["CN=pathlen zero CA", "CN=build under pathlen zero"] });
  });

  it("counts every pathLen above the CA, not only its issuer's", async () => {
    const { pki, trust } = world;
    const master = await pki.intermediate(trust.root, "master CA", { pathLength: 1 });
    const dev = await pki.intermediate(master, "developer CA under master");
    const sub = await pki.intermediate(dev, "third-level CA");
    const build = await pki.signer(dev, "build under master");
    const url = await world.tree("deep", master.certPem + dev.certPem + sub.certPem + build.certPem, [{ pkgname: "digest-20220214", signer: build, chain: [dev, master] }]);
    const target = world.target();
    expect((await world.cli(["setup", "--root", target, "--repo", url, "--json"])).status).toBe(EXIT.OK);
    expect(trustFiles(target).anchors).toEqual(["CN=pkgsrc CA", "CN=master CA", "CN=developer CA under master"]);
  });
});

describe("an identical refresh", () => {
  it("touches nothing, state.json included, even a day later", async () => {
    const { trust } = world;
    const crl = await world.pki.crl(trust.ca, [], { number: 3, nextUpdate: new Date("2030-01-01") });
    const url = await world.tree("same", trust.ca.certPem + trust.build.certPem + crl.pem);
    const target = world.target({ config: "# admin\n", pkgin: true });
    expect((await world.cli(["setup", "--root", target, "--repo", url, "--json"])).status).toBe(EXIT.OK);
    const before = snapshotWithoutRefreshRecord(target);
    const refreshed = await world.cli(["refresh", "--root", target, "--json"], { now: new Date(NOW.getTime() + 86_400_000) });
    expect(refreshed.status, refreshed.stdout).toBe(EXIT.OK);
    expect(refreshed.json.files.map((f: { status: string }) => f.status)).toEqual(refreshed.json.files.map(() => "unchanged"));
    expect(snapshotWithoutRefreshRecord(target)).toEqual(before);
  });
});
