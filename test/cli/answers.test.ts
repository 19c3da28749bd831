import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentAnswers, MAX_ANSWERS_BYTES, parseAnswers, withAnswers } from "../../src/cli/answers.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import { runCli } from "../fixtures/cli.js";
import { TestPki } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";


const spec = {
  repo: { type: "string" },
  root: { type: "string" },
  anchor: { type: "string" },
  "ca-file": { type: "string" },
  json: { type: "boolean" },
  "no-test-install": { type: "boolean" },
} as const;

describe("parseAnswers", () => {
  it("reads JSON and KEY=value lines to the same answers", () => {
    const json = parseAnswers('{"repo": "https://example.org/All", "anchor": "/etc/a.pem", "no-test-install": true}', "a.json");
    const lines = parseAnswers("# sysinst\nREPO=\"https://example.org/All\"\n\nanchor = /etc/a.pem\nNO_TEST_INSTALL=yes\n", "a.conf");
    expect(lines).toEqual(json);
    expect(json).toEqual({ repo: "https://example.org/All", anchor: "/etc/a.pem", "no-test-install": true });
  });

  it("refuses unknown keys, relative target paths, bad booleans and repeated keys", () => {
    expect(() => parseAnswers('{"repository": "x"}', "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers("anchor=etc/a.pem", "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers("json=maybe", "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers('{"json": "maybe"}', "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers('{"repo": "a", "REPO": "b"}', "a")).toThrowWithCode("ANSWERS_MALFORMED");
    expect(() => parseAnswers("repo=a\nrepo=b", "a")).toThrowWithCode("ANSWERS_MALFORMED");
    expect(() => parseAnswers("just words", "a")).toThrowWithCode("ANSWERS_MALFORMED");
    expect(() => parseAnswers('{"repo": ', "a")).toThrowWithCode("ANSWERS_MALFORMED");
    expect(() => parseAnswers("[1]", "a")).toThrowWithCode("ANSWERS_MALFORMED");
    expect(() => parseAnswers('{"__proto__": {"json": true}}', "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
  });

  it("takes yes/no, true/false and 1/0 in JSON strings as in lines, and upper-case keys in both", () => {
    expect(parseAnswers('{"json": "yes", "no-test-install": "No", "allow-weak": "1", "NON_INTERACTIVE": true, "TEST_PACKAGE": "digest"}', "a.json")).toEqual({
      json: true,
      "no-test-install": false,
      "allow-weak": true,
      "non-interactive": true,
      "test-package": "digest",
    });
    // A boolean key still refuses a number or a list.
    expect(() => parseAnswers('{"json": 1}', "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
  });

  it("refuses what would inject lines into a configuration file: control characters, and ';' in the repository", () => {
    expect(() => parseAnswers(JSON.stringify({ repo: "/srv/a\nCHECK_VULNERABILITIES=never/All" }), "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers(JSON.stringify({ config: "/etc/x\r/pkg_install.conf" }), "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers("repo=/srv/a;/srv/b", "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => parseAnswers("repo=/srv/a\tb", "a")).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(() => environmentAnswers({ PKGTRUST_REPO: "/srv/a\nb" })).toThrowWithCode("ENV_BAD_VALUE");
    expect(() => environmentAnswers({ PKGTRUST_CONFIG: "/etc/a\u0085b" })).toThrowWithCode("ENV_BAD_VALUE");
  });

  it("says that the file asks for JSON even when it refuses another of its values", () => {
    let json = false;
    expect(() => parseAnswers('{"json": true, "anchor": "relative.pem"}', "a", (on) => (json = on))).toThrowWithCode("ANSWERS_BAD_VALUE");
    expect(json).toBe(true);
  });

  it("refuses a file larger than the limit unread", () => {
    expect(() => parseAnswers(`# ${"x".repeat(MAX_ANSWERS_BYTES)}\n`, "a")).toThrowWithCode("ANSWERS_TOO_LARGE");
  });
});

describe("withAnswers", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-answers-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes flags over the answer file over the environment, and drops --answers", async () => {
    writeFileSync(path.join(dir, "answers"), "repo=/from/file\nroot=/file-root\njson=yes\n");
    const env = { PKGTRUST_REPO: "/from/env", PKGTRUST_ROOT: "/env-root", PKGTRUST_ANCHOR: "/env/anchor.pem" };
    const argv = await withAnswers(["--answers", "answers", "--root", "/flag-root"], spec, env, dir);
    expect(argv).toEqual(["--repo=/from/file", "--anchor=/env/anchor.pem", "--json", "--root", "/flag-root"]);
    expect(await withAnswers(["--answers=answers"], spec, {}, dir)).toEqual(["--repo=/from/file", "--root=/file-root", "--json"]);
    expect(await withAnswers([], spec, env, dir)).toEqual(["--repo=/from/env", "--root=/env-root", "--anchor=/env/anchor.pem"]);
  });

  it("reports an unreadable answer file and a bad environment value with their codes", async () => {
    await expect(withAnswers(["--answers", "missing"], spec, {}, dir)).rejects.toThrowWithCode("ANSWERS_UNREADABLE");
    expect(() => environmentAnswers({ PKGTRUST_ANCHOR: "relative.pem" })).toThrowWithCode("ENV_BAD_VALUE");
    expect(environmentAnswers({ PKGTRUST_REPO: "" })).toEqual({});
  });
});

describe("pkgtrust setup --answers", () => {
  let pki: TestPki;
  let www: string;
  let server: RepoServer;
  let target: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    const trust = await standardPki(pki);
    www = mkdtempSync(path.join(tmpdir(), "pkgtrust-answers-"));
    await writeRepository(path.join(www, "repo"), { bundle: trust.ca.certPem + trust.build.certPem, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
    target = path.join(www, "target");
    mkdirSync(path.join(target, "etc"), { recursive: true });
    writeFileSync(path.join(target, "etc/anchor.pem"), trust.root.certPem);
    server = await startRepoServer({ root: www });
  });
  afterAll(async () => {
    await server?.close();
    await pki?.cleanup();
    rmSync(www, { recursive: true, force: true });
  });

  it("sets up unattended from an answer file and PKGTRUST_ROOT", async () => {
    const answers = path.join(www, "answers.json");
    writeFileSync(answers, JSON.stringify({ repo: new URL("repo", server.httpUrl).href, anchor: "/etc/anchor.pem", "no-test-install": true, json: true }));
    const result = await runCli(["setup", "--answers", answers], { env: { PKGTRUST_ROOT: target, PKGTRUST_ANCHOR: DEFAULT_ANCHOR } });
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(JSON.parse(result.stdout).ok).toBe(true);
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain("VERIFIED_INSTALLATION=always");
  });

  it("lets a flag override the answer file: the default anchor is missing in the target", async () => {
    const answers = path.join(www, "answers.conf");
    writeFileSync(answers, `repo=${new URL("repo", server.httpUrl).href}\nanchor=/etc/anchor.pem\nno-test-install=yes\njson=yes\n`);
    const result = await runCli(["setup", "--answers", answers, "--root", target, "--anchor", DEFAULT_ANCHOR]);
    expect(result.status).toBe(EXIT.CONFIG);
    expect(JSON.parse(result.stdout).error.code).toBe("BOOT_ANCHOR_MISSING");
  });

  it("reports errors as JSON when the answer file says json, also those raised before setup runs", async () => {
    const answers = path.join(www, "json-only.conf");
    writeFileSync(answers, "json=yes\nnon-interactive=yes\n");
    const missingRepo = await runCli(["setup", "--answers", answers, "--root", target]);
    expect(missingRepo.status).toBe(EXIT.USAGE);
    expect(missingRepo.json?.error?.code, missingRepo.stderr).toBe("BOOT_NEEDS_REPOSITORY");
    writeFileSync(answers, '{"json": true, "repo": "/srv/All", "test-package": "digest", "no-test-install": true}');
    const contradictory = await runCli(["setup", "--answers", answers, "--root", target]);
    expect(contradictory.json?.error?.code, contradictory.stderr).toBe("USAGE_BAD_OPTION");
    expect(contradictory.stderr).toBe("");
  });
});
