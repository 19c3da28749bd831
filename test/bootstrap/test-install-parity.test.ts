/**
 * setup's test-install against the C reference of pkg_install (test/reference/pkg-verify.c)
 * reading the pkg_install.conf that setup wrote: a repository built with PKG_COMPRESSION=xz
 * (only pkg_summary.xz) is set up end to end, and then every package of a second repository
 * (each compression, each signer rule) gets the same verdict from testInstall as from
 * pkg_install's calls under that configuration.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testFetcher } from "../fixtures/fetcher.js";
import { runSetup } from "../../src/bootstrap/setup.js";
import { testInstall } from "../../src/bootstrap/test-install.js";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { readSettings } from "../../src/config/pkg-install-conf.js";
import { TargetRoot } from "../../src/config/target-root.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository, type RepoPackage } from "../fixtures/repository.js";
import { REFERENCE, referenceVerify } from "../reference/reference.js";
import { requireTools } from "../fixtures/requirements.js";

let pki: TestPki;
let www: string;
let server: RepoServer;
let target: string;
let configFile: string;
let matrix: Record<string, string>;
const names: string[] = [];

const fetcher = () => testFetcher({ ca: server.caPem, limits: { timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 } } });

/** The matrix holds a package of every compression; without the compressors this file is skipped (recorded). */
const RUNS = REFERENCE !== undefined && requireTools(["bzip2", "xz", "zstd"], "setup's test-install on packages of every compression, against the C reference");

beforeAll(async () => {
  if (!RUNS) return;
  pki = await TestPki.create();
  const { root, ca, build } = await standardPki(pki);
  const privateEku = await pki.signer(ca, "build machine with a private EKU", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.4.1.99999.7"] });
  www = mkdtempSync(path.join(tmpdir(), "pkgtrust-parity-www-"));
  const bundle = ca.certPem + build.certPem + privateEku.certPem;
  await writeRepository(path.join(www, "xz"), {
    bundle,
    summary: "xz",
    packages: [
      { pkgname: "digest-20220214", signer: build, chain: [ca], compression: "xz", payload: 200_000 },
      { pkgname: "pkgin-24.5.1", signer: build, compression: "xz" },
    ],
  });
  const packages: RepoPackage[] = [
    ...(["gzip", "bzip2", "xz", "zstd", "none"] as const).map((compression) => ({ pkgname: `${compression}-1.0`, signer: build, chain: [ca], compression, payload: 120_000 })),
    { pkgname: "noembed-1.0", signer: build },
    // Unpacks to more than the 4 MiB between two of the walk's collections.
    { pkgname: "big-1.0", signer: build, chain: [ca], payload: 6_000_000 },
    { pkgname: "privateeku-1.0", signer: privateEku, chain: [ca] },
    { pkgname: "lonely-1.0", signer: build, chain: [ca], noSignerCert: true },
    { pkgname: "tampered-1.0", signer: build, chain: [ca], tamper: true, payload: 100_000 },
    { pkgname: "tamperedxz-1.0", signer: build, chain: [ca], tamper: true, compression: "xz", payload: 100_000 },
    { pkgname: "wrongeku-1.0", signer: await pki.signer(ca, "code signing only", { extendedKeyUsage: ["codeSigning"] }), chain: [ca] },
    { pkgname: "dvcs-1.0", signer: await pki.signer(ca, "with DVCS", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.5.5.7.3.10"] }), chain: [ca] },
    { pkgname: "casigner-1.0", signer: await pki.signer(ca, "a CA as signer", { ca: true, keyUsage: ["digitalSignature", "keyCertSign"] }), chain: [ca] },
    { pkgname: "kcsnotca-1.0", signer: await pki.signer(ca, "keyCertSign but CA:FALSE", { ca: false, keyUsage: ["digitalSignature", "keyCertSign"] }), chain: [ca] },
    { pkgname: "expired-1.0", signer: await pki.signer(ca, "expired build machine", { notAfter: new Date("2021-01-01") }), chain: [ca] },
  ];
  names.push(...packages.map((p) => p.pkgname));
  matrix = await writeRepository(path.join(www, "matrix"), { bundle, packages });
  server = await startRepoServer({ root: www });
  target = mkdtempSync(path.join(tmpdir(), "pkgtrust-parity-target-"));
  mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(target, DEFAULT_ANCHOR), root.certPem);
});

afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  rmSync(www, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
});

describe.runIf(RUNS)("setup's test-install and pkg_install's calls under the configuration setup wrote", () => {
  it("sets up a repository built with PKG_COMPRESSION=xz and only pkg_summary.xz, end to end", async () => {
    const outcome = await runSetup(
      { repository: new URL("xz/", server.httpUrl).href, root: new TargetRoot(target), anchorPath: DEFAULT_ANCHOR, testInstall: true },
      { fetcher: fetcher(), now: NOW, cwd: target, emit: () => undefined },
    );
    expect(outcome.ok, JSON.stringify(!outcome.ok && outcome.error)).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.testInstall).toMatchObject({ package: "digest-20220214", trusted: true });
    configFile = outcome.result.configFile;
    for (const name of ["digest-20220214", "pkgin-24.5.1"]) {
      const verdict = referenceVerify({ file: path.join(www, "xz/All", `${name}.tgz`), conf: path.join(target, configFile), root: target, time: NOW });
      expect(verdict, `${name}: ${verdict.line}`).toMatchObject({ trusted: true });
    }
  });

  it("gives every package the verdict pkg_install gives it under that configuration", async () => {
    expect(configFile).toBeDefined();
    const downloads = { fetcher: fetcher(), call: {} };
    const disagreements: string[] = [];
    for (const name of names) {
      const reference = referenceVerify({ file: matrix[name] as string, conf: path.join(target, configFile), root: target, time: NOW });
      const ours = await testInstall({ root: new TargetRoot(target), repository: new URL("matrix/All/", server.httpUrl), configPath: configFile, requested: name, time: NOW, ...downloads }).then(
        () => "trusted",
        (error: { code?: string; detail?: { code?: string } }) => `${error.code} ${error.detail?.code ?? ""}`,
      );
      if ((ours === "trusted") !== reference.trusted) disagreements.push(`${name}: test-install ${ours}, reference ${reference.line}`);
    }
    expect(disagreements).toEqual([]);
    // The matrix holds both verdicts, so agreement is not agreement on one answer.
    const trusted = names.filter((name) => referenceVerify({ file: matrix[name] as string, conf: path.join(target, configFile), root: target, time: NOW }).trusted);
    expect(trusted.sort()).toEqual(["big-1.0", "bzip2-1.0", "gzip-1.0", "kcsnotca-1.0", "noembed-1.0", "none-1.0", "privateeku-1.0", "xz-1.0", "zstd-1.0"]);
  });

  it("frees the walk's spent buffers as a big package downloads (the collection setup passes)", async () => {
    let collections = 0;
    const outcome = await testInstall({ root: new TargetRoot(target), repository: new URL("matrix/All/", server.httpUrl), configPath: configFile, requested: "big-1.0", time: NOW, fetcher: fetcher(), call: {}, collect: () => collections++ });
    expect(outcome).toMatchObject({ package: "big-1.0", trusted: true });
    expect(collections).toBeGreaterThanOrEqual(1);
  });

  it("is refused by pkg_install when the configuration does not say VERIFIED_INSTALLATION=always, or says it twice", () => {
    const conf = path.join(target, "etc/twice.conf");
    writeFileSync(conf, "VERIFIED_INSTALLATION=never\nVERIFIED_INSTALLATION=always\n");
    expect(referenceVerify({ file: matrix["gzip-1.0"] as string, conf, root: target, time: NOW })).toMatchObject({ trusted: false, class: "not-enforced" });
    // parse_pkg_install_conf keeps the blank after '=' (unlike var_get), and pkgtrust reads it so too.
    writeFileSync(conf, "VERIFIED_INSTALLATION= always\n");
    expect(referenceVerify({ file: matrix["gzip-1.0"] as string, conf, root: target, time: NOW })).toMatchObject({ trusted: false, class: "not-enforced" });
    expect(readSettings(readFileSync(conf, "utf8")).get("VERIFIED_INSTALLATION")).toBe(" always");
    // The value is compared without case (strcasecmp); with no anchor file the signature then fails.
    writeFileSync(conf, "VERIFIED_INSTALLATION=Always\n");
    expect(referenceVerify({ file: matrix["gzip-1.0"] as string, conf, root: target, time: NOW })).toMatchObject({ trusted: false, class: "signature" });
  });
});
