/**
 * Line injection into pkg_install.conf and pkgin's repositories.conf: pkg_install reads one
 * VAR=value per line and splits PKG_PATH at ';', so a newline or ';' smuggled into a value
 * pkgtrust writes becomes settings of the attacker's choosing (CHECK_VULNERABILITIES=never,
 * PKG_DBDIR=...) that later runs keep as the admin's own. Every input route is tried: a
 * file-path repository, a file: URL (%0A, %3B), an http URL, PKGTRUST_REPO, answer files, --config.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/pkg-install-conf.js";
import { EXIT } from "../../src/errors.js";
import { snapshotTree, writeRepository } from "../fixtures/repository.js";
import { makeWorld, type World } from "./support/world.js";

let world: World;
/** A directory whose name carries pkg_install.conf lines, holding a real, valid repository. */
let injected: string;

const INJECTION = "\nCHECK_VULNERABILITIES=never\nPKG_DBDIR=/var/evil";

beforeAll(async () => {
  world = await makeWorld("injection");
  await world.tree("good", world.trust.ca.certPem + world.trust.build.certPem);
  await world.tree("semi;colon", world.trust.ca.certPem + world.trust.build.certPem);
  injected = path.join(world.www, `media${INJECTION}`);
  mkdirSync(injected, { recursive: true });
  await writeRepository(injected, {
    bundle: world.trust.ca.certPem + world.trust.build.certPem,
    packages: [{ pkgname: "digest-20220214", signer: world.trust.build, chain: [world.trust.ca] }],
  });
});
afterAll(() => world?.close());

/** Runs setup into a target with an admin's config and pkgin, and checks nothing changed. */
async function refused(argv: readonly string[], code: string, exit: number, env: NodeJS.ProcessEnv = {}) {
  const target = world.target({ config: "# admin\nPKG_PATH=/mine\n", pkgin: true });
  const before = snapshotTree(target);
  const result = await world.cli(["setup", "--root", target, "--non-interactive", "--json", ...argv], { env });
  expect(result.json?.error?.code, result.stdout + result.stderr).toBe(code);
  expect(result.status).toBe(exit);
  expect(snapshotTree(target)).toEqual(before);
  const settings = readSettings(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8"));
  expect(settings.has("CHECK_VULNERABILITIES")).toBe(false);
  return result;
}

describe("a newline in the repository never reaches a configuration file", () => {
  it("refuses a file-path repository whose directory name holds a newline", async () => {
    await refused(["--repo", path.join(injected, "All")], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
  });

  it("refuses a file: URL whose path decodes to a newline (%0A)", async () => {
    const url = pathToFileURL(path.join(injected, "All")).href;
    expect(url).toContain("%0A");
    await refused(["--repo", url], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
  });

  it("refuses other control characters too: CR, tab, NUL, DEL, C1", async () => {
    for (const character of ["%0D", "%09", "%00", "%7F", "%C2%85"]) {
      await refused(["--repo", `file:///srv/pkg${character}x/All`], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
    }
  });

  it("refuses a raw newline inside an http URL instead of letting the URL parser drop it", async () => {
    const url = new URL("good/All/", world.server.httpUrl).href.replace("good", "go\nod");
    await refused(["--repo", url], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
  });

  it("refuses a newline in PKGTRUST_REPO", async () => {
    await refused([], "ENV_BAD_VALUE", EXIT.USAGE, { PKGTRUST_REPO: path.join(injected, "All") });
  });

  it("refuses a newline in a JSON answer file, and reports it as JSON as the file asks", async () => {
    const answers = path.join(world.www, "answers.json");
    writeFileSync(answers, JSON.stringify({ repo: path.join(injected, "All"), "non-interactive": true, json: true }));
    const target = world.target({ config: "# admin\n" });
    const before = snapshotTree(target);
    const result = await world.cli(["setup", "--root", target, "--answers", answers]);
    expect(result.status).toBe(EXIT.INPUT);
    expect(result.json?.error?.code, result.stdout + result.stderr).toBe("ANSWERS_BAD_VALUE");
    expect(snapshotTree(target)).toEqual(before);
  });

  it("refuses a newline in --config, which names the trust files written into pkg_install.conf", async () => {
    const url = new URL("good/All/", world.server.httpUrl).href;
    await refused(["--repo", url, "--config", `/etc/x${INJECTION}/pkg_install.conf`], "USAGE_BAD_VALUE", EXIT.USAGE);
  });
});

describe("a ';' in the repository never splits PKG_PATH", () => {
  it("refuses a ';' in an http URL", async () => {
    await refused(["--repo", new URL("semi;colon/All/", world.server.httpUrl).href], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
  });

  it("refuses a ';' in a path and a %3B in a file: URL", async () => {
    await refused(["--repo", "/srv/a;/b/All"], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
    await refused(["--repo", "file:///srv/a%3B/b/All"], "REPO_UNSAFE_CHARACTER", EXIT.USAGE);
  });

  it("refuses a ';' in PKGTRUST_REPO", async () => {
    await refused([], "ENV_BAD_VALUE", EXIT.USAGE, { PKGTRUST_REPO: "/srv/a;b/All" });
  });
});

describe("damaged percent-encoding", () => {
  it("refuses a file: URL that does not decode, with a usage error rather than a crash", async () => {
    await refused(["--repo", "file:///srv/%E0%A4/All"], "REPO_BAD_URL", EXIT.USAGE);
  });
});

describe("honest repositories still work", () => {
  it("configures a path with spaces and non-ASCII letters", async () => {
    const dir = path.join(world.www, "média files");
    await writeRepository(dir, { bundle: world.trust.ca.certPem + world.trust.build.certPem, packages: [{ pkgname: "digest-20220214", signer: world.trust.build, chain: [world.trust.ca] }] });
    const target = world.target();
    const result = await world.cli(["setup", "--root", target, "--repo", path.join(dir, "All"), "--json"]);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(readSettings(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).get("PKG_PATH")).toBe(path.join(dir, "All"));
  });
});
