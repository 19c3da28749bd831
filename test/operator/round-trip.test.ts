/**
 * The operator's whole job, through the real command line: make the PKI, sign a package,
 * build and lint the key bundle, serve it on 127.0.0.1, set a client up from it; then revoke
 * the build certificate, rebuild, and watch refresh drop it from what pkg_install is given.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { crlNumbersByIssuer } from "../../src/config/state.js";
import { readSettings } from "../../src/config/pkg-install-conf.js";
import { EXIT } from "../../src/errors.js";
import { makeInnerPackage } from "../fixtures/packages.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import type { CliResult } from "../fixtures/cli.js";
import { openssl, pkgtrust } from "../keys/operator-cli.js";
import { requireTools } from "../fixtures/requirements.js";
import { REFERENCE, referenceVerify } from "../reference/reference.js";

const PKGNAME = "digest-20220214";
const execFileAsync = promisify(execFile);
let work: string;
let ops: string;
let www: string;
let target: string;
let server: RepoServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "pkgtrust-operator-"));
  ops = path.join(work, "ops");
  www = path.join(work, "www");
  target = path.join(work, "target");
  for (const d of [ops, path.join(www, "All"), path.join(target, path.dirname(DEFAULT_ANCHOR))]) mkdirSync(d, { recursive: true });
  server = await startRepoServer({ root: www });
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Operator commands run in the operator's directory; client commands against the target root. */
async function operator(...argv: string[]): Promise<CliResult> {
  const result = await pkgtrust([...argv, "--json"], { cwd: ops });
  expect(result.status, `${argv.join(" ")}\n${result.stdout}${result.stderr}`).toBe(EXIT.OK);
  return result;
}
const client = (...argv: string[]) => pkgtrust([...argv, "--root", target, "--json"], { cwd: work, env: { PKGTRUST_PKG_ADD: "none" } });

/** Publishes the package signed by `signer` (its intermediate embedded) and pkg_summary.gz. */
async function publishPackage(signer: string): Promise<void> {
  const inner = await makeInnerPackage(ops, { pkgname: PKGNAME });
  const signed = path.join(ops, `${PKGNAME}-${signer}.tgz`);
  await operator("sign-package", inner.path, signed, "--key", `${signer}.key`, "--cert", `${signer}.pem`, "--chain", "dev.pem");
  const bytes = readFileSync(signed);
  writeFileSync(path.join(www, "All", `${PKGNAME}.tgz`), bytes);
  writeFileSync(path.join(www, "All", "pkg_summary.gz"), gzipSync(`PKGNAME=${PKGNAME}\nCOMMENT=test package\nFILE_NAME=${PKGNAME}.tgz\nFILE_SIZE=${bytes.length}\nSIZE_PKG=${bytes.length * 2}\n`));
}

/**
 * pkg_install's verification of a package under the configuration setup wrote: its own
 * calls (the C reference, reading pkg_install.conf as parse_pkg_install_conf does), and ar with openssl
 * smime (domain.md section 2), which must agree.
 */
async function pkgInstallAccepts(packageFile: string, configFile: string): Promise<boolean> {
  const smime = await opensslAccepts(packageFile, configFile);
  if (!REFERENCE) return smime;
  const reference = referenceVerify({ file: packageFile, conf: path.join(target, configFile), root: target, time: new Date() });
  expect(reference.trusted, reference.line).toBe(smime);
  return reference.trusted;
}

async function opensslAccepts(packageFile: string, configFile: string): Promise<boolean> {
  const settings = readSettings(readFileSync(path.join(target, configFile), "utf8"));
  const host = (name: string) => path.join(target, settings.get(name) ?? "missing");
  const dir = mkdtempSync(path.join(work, "ar-"));
  await execFileAsync("ar", ["x", packageFile], { cwd: dir });
  const args = ["smime", "-verify", "-binary", "-inform", "PEM", "-in", "+PKG_SIGNATURE", "-content", "+PKG_HASH", "-purpose", "smimesign", "-out", "/dev/null"];
  return (await openssl([...args, "-CAfile", host("CERTIFICATE_ANCHOR_PKGS"), "-certfile", host("CERTIFICATE_CHAIN")], dir)).ok;
}

/** openssl's and ar's view of every certificate, CRL and package (pkg_install's own calls), when they are installed. */
const crossCheck = requireTools(["openssl", "ar"], "openssl's verdict on each certificate, CRL and package of the round trip");

const base64Of = (pem: string) => pem.trim().split("\n").slice(1, -1).join("\n");
const opsFile = (name: string) => readFileSync(path.join(ops, name), "utf8");

describe("the operator round trip", () => {
  it("issues, signs, builds, lints, sets up, revokes, rebuilds and refreshes", async () => {
    // 1. The PKI.
    await operator("keys", "init-ca", "--cn", "pkgsrc CA", "--out-cert", "root.pem", "--out-key", "root.key");
    // The root's first CRL, empty, made at the same ceremony: a year to its nextUpdate (the offline key's cadence).
    const rootCrl = await operator("keys", "crl", "--ca-cert", "root.pem", "--ca-key", "root.key");
    expect(rootCrl.json).toMatchObject({ action: "crl", crl: "root.crl.pem", number: "1", revoked: [] });
    expect(Date.parse(rootCrl.json.nextUpdate) - Date.parse(rootCrl.json.thisUpdate)).toBe(365 * 86_400_000);
    await operator("keys", "issue-intermediate", "--ca-cert", "root.pem", "--ca-key", "root.key", "--cn", "pkgsrc developer CA", "--out-cert", "dev.pem", "--out-key", "dev.key");
    const build = await operator("keys", "issue-signing", "--ca-cert", "dev.pem", "--ca-key", "dev.key", "--cn", "build machine 1", "--out-cert", "build1.pem", "--out-key", "build1.key");
    await operator("keys", "issue-signing", "--ca-cert", "dev.pem", "--ca-key", "dev.key", "--cn", "build machine 2", "--out-cert", "build2.pem", "--out-key", "build2.key", "--key-type", "rsa-3072");
    for (const key of ["root.key", "dev.key", "build1.key", "build2.key"]) expect(statSync(path.join(ops, key)).mode & 0o777).toBe(0o600);
    // openssl checks every certificate: each build certificate for S/MIME signing, which applies the purpose's CA rules to dev.pem and root.pem.
    for (const leaf of crossCheck ? ["build1.pem", "build2.pem"] : []) {
      expect((await openssl(["verify", "-CAfile", "root.pem", "-untrusted", "dev.pem", "-purpose", "smimesign", leaf], ops)).output).toContain(`${leaf}: OK`);
    }
    if (crossCheck) expect((await openssl(["verify", "-CAfile", "root.pem", "dev.pem", "root.pem"], ops)).ok).toBe(true);

    // 2. A package signed by build machine 1, the bundle, and its lint.
    await publishPackage("build1");
    const bundlePath = path.join(www, "All", "pkg_keys.pem");
    const built = await operator("bundle", "build", "--anchor", "root.pem", "--out", bundlePath, "root.pem", "dev.pem", "build1.pem", "build2.pem", "root.crl.pem");
    expect(built.json.certificates.map((c: { subject: string }) => c.subject)).toEqual(["CN=pkgsrc developer CA", "CN=build machine 1", "CN=build machine 2"]);
    expect(built.json.dropped.map((d: { code: string }) => d.code)).toEqual(["BUNDLE_IS_ANCHOR"]);
    const linted = await operator("bundle", "lint", bundlePath, "--anchor", "root.pem");
    expect(linted.json).toMatchObject({ ok: true, errors: [], warnings: [] });

    // 3. A client takes it from the loopback server.
    writeFileSync(path.join(target, DEFAULT_ANCHOR), opsFile("root.pem"));
    const url = new URL("All/", server.httpUrl).href;
    const setup = await client("setup", "--repo", url);
    expect(setup.status, setup.stdout).toBe(EXIT.OK);
    // The signed package passed the test install (pkgtrust's pkg_install-exact check: PKGTRUST_PKG_ADD=none).
    expect(setup.json.testInstall).toMatchObject({ package: expect.stringContaining(PKGNAME), check: "native" });
    const chainFile = path.join(target, setup.json.files.find((f: { path: string }) => f.path.endsWith("chain.pem")).path);
    expect(readFileSync(chainFile, "utf8")).toContain(base64Of(opsFile("build1.pem")));
    const signedByBuild1 = path.join(ops, `${PKGNAME}-build1.tgz`);
    if (crossCheck) expect(await pkgInstallAccepts(signedByBuild1, setup.json.configFile)).toBe(true);

    // 4. Build machine 1 is compromised: revoke it, re-sign the package on machine 2, rebuild.
    await operator("keys", "revoke", "--ca-cert", "dev.pem", "--ca-key", "dev.key", "--serial", build.json.certificate.serialNumber);
    if (crossCheck) expect((await openssl(["crl", "-in", "dev.crl.pem", "-CAfile", "dev.pem", "-verify", "-noout"], ops)).output).toContain("verify OK");
    writeFileSync(path.join(ops, "cas.pem"), opsFile("root.pem") + opsFile("dev.pem"));
    if (crossCheck) expect((await openssl(["verify", "-CAfile", "cas.pem", "-crl_check", "-CRLfile", "dev.crl.pem", "-purpose", "smimesign", "build1.pem"], ops)).output).toContain("certificate revoked");
    await publishPackage("build2");
    const rebuilt = await operator("bundle", "build", "--anchor", "root.pem", "--out", bundlePath, "dev.pem", "build1.pem", "build2.pem", "root.crl.pem", "dev.crl.pem");
    expect(rebuilt.json.dropped).toEqual([expect.objectContaining({ subject: "CN=build machine 1", code: "CERT_REVOKED" })]);
    expect(rebuilt.json.crls).toEqual([expect.objectContaining({ issuer: "CN=pkgsrc CA", revoked: [] }), expect.objectContaining({ number: "1", revoked: [build.json.certificate.serialNumber] })]);
    expect((await operator("bundle", "lint", bundlePath, "--anchor", "root.pem")).json.errors).toEqual([]);

    // 5. refresh: the revoked certificate is gone from what pkgtrust wrote for pkg_install.
    const refreshed = await client("refresh");
    expect(refreshed.status, refreshed.stdout).toBe(EXIT.OK);
    expect(refreshed.json.testInstall).toMatchObject({ package: expect.stringContaining(PKGNAME), check: "native" });
    expect(refreshed.json.certificates.find((c: { subject: string }) => c.subject === "CN=build machine 1")).toBeUndefined();
    const written = refreshed.json.files.map((f: { path: string }) => readFileSync(path.join(target, f.path), "utf8")).join("");
    expect(written).not.toContain(base64Of(opsFile("build1.pem")));
    expect(readFileSync(chainFile, "utf8")).toContain(base64Of(opsFile("build2.pem")));
    if (crossCheck) expect(await pkgInstallAccepts(path.join(ops, `${PKGNAME}-build2.tgz`), refreshed.json.configFile)).toBe(true);
    // What revocation cannot do: pkg_install consults no CRL and OpenSSL 3.0 builds the chain from the
    // certificates the signature embeds, so a package machine 1 signed still verifies until build1.pem
    // expires. This is why build certificates are short-lived (keys issue-signing --help).
    if (crossCheck) expect(await pkgInstallAccepts(signedByBuild1, refreshed.json.configFile)).toBe(true);
    const state = JSON.parse(readFileSync(path.join(target, "etc/pkgtrust/state.json"), "utf8"));
    expect(crlNumbersByIssuer(state)["CN=pkgsrc developer CA"]).toBe("1");
    expect(state.certificates.map((c: { subject: string }) => c.subject).sort()).toEqual(["CN=build machine 2", "CN=pkgsrc developer CA"]);
  });
});
