/**
 * Every `sh` block of docs/*.md runs here, each document's blocks in order in one bash
 * session (test/docs/doc-runner.ts), so that the documents cannot rot. NetBSD-only tools are
 * recording stubs; the assertions check that they were called as documented and that the
 * commands had their documented effect.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { createDemoPki, writeDemoRepository } from "../../src/demo/repository.js";
import { serveDirectory, type StaticServer } from "../../src/demo/server.js";
import { createRootCa, issueIntermediate } from "../../src/keys/issue.js";
import { signNextCrl } from "../../src/keys/revoke.js";
import { type Certificate } from "../../src/pki/certificate.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { innerOf } from "../fixtures/repo-sign.js";
import { codeBlocks } from "./doc-blocks.js";
import { REPO_ROOT, runDocument, type DocumentRun } from "./doc-runner.js";
import { requireTools } from "../fixtures/requirements.js";

const DOCS = path.join(REPO_ROOT, "docs");
/** What the documents' blocks call besides pkgtrust and the NetBSD stubs. */
const SHELL = requireTools(["bash", "openssl", "ar", "tar", "gzip", "grep", "cmp", "install"], "the documents' shell blocks, run as written");
let work: string;

beforeAll(async () => {
  expect(existsSync(path.join(REPO_ROOT, "build/src/cli/main.js")), "run 'npm run build' first (npm test does)").toBe(true);
  work = await mkdtemp(path.join(tmpdir(), "pkgtrust-docs-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function scratch(name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** What the master key holder hands a developer (master-key.md): the anchor, its CRL and an intermediate CA. */
async function seedDeveloperFiles(dir: string): Promise<void> {
  const root = await createRootCa({ commonName: "pkgsrc CA", days: 3650 });
  const developer = await issueIntermediate(root, { commonName: "pkgsrc developer CA alice", days: 730, pathLength: 0 });
  const [certificate] = readCertificateFile(root.certificatePem, "pkgsrc-ca.pem").certificates;
  const rootCrl = await signNextCrl({ ca: { ...root, certificate: certificate as Certificate }, now: new Date(), nextUpdateDays: 365 });
  await writeFile(path.join(dir, "pkgsrc-ca.crl.pem"), rootCrl.pem);
  await writeFile(path.join(dir, "pkgsrc-ca.pem"), root.certificatePem);
  await writeFile(path.join(dir, "dev-ca.pem"), developer.certificatePem);
  await writeFile(path.join(dir, "dev-ca.key"), developer.privateKeyPem, { mode: 0o600 });
}

function expectSuccess(run: DocumentRun): void {
  expect(run.stderr.split("\n").filter((line) => / block at line \d+ failed/.test(line)), run.stderr).toEqual([]);
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.blocks).toBeGreaterThan(0);
}

function repositoryFile(target: string, name: "anchors.pem" | "chain.pem"): string {
  const base = path.join(target, "etc/pkgtrust/repositories");
  const [id] = readdirSync(base);
  return readFileSync(path.join(base, id ?? "", name), "utf8");
}

describe("documents whose shell blocks run", () => {
  it("every docs/*.md with sh blocks has a case here", () => {
    const withShell = readdirSync(DOCS)
      .filter((file) => file.endsWith(".md"))
      .filter((file) => codeBlocks(readFileSync(path.join(DOCS, file), "utf8")).some((block) => block.lang === "sh"));
    expect(withShell.sort()).toEqual(["build-admins.md", "bundle-format.md", "master-key.md", "pkg_install-notes.md", "releng.md", "workflow.md"]);
  });

  it("uses only the documented fence languages (sh for commands to run)", () => {
    for (const file of readdirSync(DOCS).filter((name) => name.endsWith(".md"))) {
      for (const block of codeBlocks(readFileSync(path.join(DOCS, file), "utf8"))) {
        expect(["sh", "text", "console", "conf", "make"], `${file}:${block.line}`).toContain(block.lang);
      }
    }
  });
});

describe("workflow.md", () => {
  it.runIf(SHELL)("runs the whole cycle: issue, sign, publish, setup, rotate, revoke, refuse a rollback", async () => {
    const dir = await scratch("workflow");
    const run = await runDocument("docs/workflow.md", dir);
    expectSuccess(run);
    expect(run.calls).toContain("pkg_info -X packages/All/hello-1.0.tgz");
    expect(readFileSync(path.join(dir, "target/etc/pkg_install.conf"), "utf8")).toMatch(/^VERIFIED_INSTALLATION=always$/m);
    // The revoked certificate left the files pkg_install reads; its successor is there.
    const chain = repositoryFile(path.join(dir, "target"), "chain.pem");
    const body = (file: string) => readFileSync(path.join(dir, file), "utf8").replace(/-----[A-Z ]+-----|\s/g, "");
    expect(chain.replace(/-----[A-Z ]+-----|\s/g, "")).toContain(body("build-2.pem"));
    expect(chain.replace(/-----[A-Z ]+-----|\s/g, "")).not.toContain(body("build.pem"));
    // A package signed with the revoked key still verifies against the refreshed anchor file (no CRL in pkg_install).
    expect(run.stdout).toContain("hello-1.0: trusted");
    expect(run.stdout).toContain("refresh refused the old bundle: status 6");
  });
});

describe("master-key.md", () => {
  it.runIf(SHELL)("creates the root with a private key file, backs it up, issues and revokes an intermediate", async () => {
    const dir = await scratch("master-key");
    const run = await runDocument("docs/master-key.md", dir, { BACKUP_PASSPHRASE: "correct horse battery staple" });
    expectSuccess(run);
    expect(statSync(path.join(dir, "pkgsrc-ca.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, "pkgsrc-ca.key.enc"), "utf8")).toContain("ENCRYPTED PRIVATE KEY");
    expect(existsSync(path.join(dir, "pkgsrc-ca.crl.pem"))).toBe(true);
  });
});

describe("build-admins.md", () => {
  it.runIf(SHELL)("issues a signing certificate, configures the machine as documented and publishes a bundle", async () => {
    const dir = await scratch("build-admins");
    await seedDeveloperFiles(dir);
    const packages = path.join(dir, "packages");
    const keydir = path.join(dir, "keys");
    // What the stubbed `make package` would have left, here unsigned (the inner package of a
    // demo one), so that only the documented `repo sign` makes it verify under this machine's chain.
    await writeDemoRepository(path.join(dir, "built"), await createDemoPki(new Date()));
    await mkdir(path.join(packages, "All"), { recursive: true });
    await writeFile(path.join(packages, "All/digest-20220214.tgz"), innerOf(path.join(dir, "built/All/digest-20220214.tgz")));
    const run = await runDocument("docs/build-admins.md", dir, { PACKAGES: packages, KEYDIR: keydir });
    expectSuccess(run);
    expect(run.calls).toEqual(
      expect.arrayContaining([
        "pkg_admin config-var CERTIFICATE_CHAIN",
        "make -C /usr/pkgsrc/pkgtools/digest package",
        `pkg_admin check-signature ${packages}/All/digest-20220214.tgz`,
      ]),
    );
    expect(statSync(path.join(keydir, "build.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(packages, "All/pkg_keys.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(run.calls).toContain(`pkg_info -X ${packages}/All/digest-20220214.tgz`);
    // The smoke package and the re-signed repository package both verify.
    expect(run.stdout).toContain("smoke-1.0: trusted");
    expect(run.stdout).toContain("digest-20220214: trusted");
  });

  it("shows the mk.conf and pkg_install.conf settings pkgsrc and pkg_install read", () => {
    const blocks = codeBlocks(readFileSync(path.join(DOCS, "build-admins.md"), "utf8"));
    const make = blocks.find((block) => block.lang === "make")?.code ?? "";
    // The names mk/pkgformat/pkg/package.mk reads.
    expect(make).toMatch(/^SIGN_PACKAGES=\s+x509$/m);
    expect(make).toMatch(/^X509_KEY=\s+\/etc\/pkgsrc-keys\/build\.key$/m);
    expect(make).toMatch(/^X509_CERTIFICATE=\s+\/etc\/pkgsrc-keys\/build\.pem$/m);
    const conf = blocks.find((block) => block.lang === "conf")?.code ?? "";
    expect(conf).toBe("CERTIFICATE_CHAIN=/etc/pkgsrc-keys/dev-ca.pem");
  });
});

describe("releng.md", () => {
  let server: StaticServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it.runIf(SHELL)("runs sysinst's calls against a loopback repository: success, then a failure with its message", async () => {
    const dir = await scratch("releng");
    const pki = await createDemoPki(new Date());
    await writeDemoRepository(path.join(dir, "www/packages"), pki);
    server = await serveDirectory(path.join(dir, "www"));
    const target = path.join(dir, "targetroot");
    await mkdir(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
    await writeFile(path.join(target, DEFAULT_ANCHOR), pki.anchor.certificatePem);
    await writeFile(path.join(dir, "pkgsrc-ca.pem"), pki.anchor.certificatePem);
    const repo = new URL("packages/All", server.url).href;
    const run = await runDocument("docs/releng.md", dir, { REPO: repo, TARGET: target, BASE: target });
    expectSuccess(run);
    expect(run.stdout).toMatch(/pkgtrust setup: exit status 0\n[\s\S]*pkgtrust setup: exit status 4\n/);
    expect(run.stdout).toContain("pkg_keys.pem");
    expect(run.calls).toEqual([`chroot ${target} /usr/sbin/pkg_add pkgin`, `chroot ${target} /usr/pkg/bin/pkgin -y update`]);
    const config = readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8");
    expect(config).toMatch(/^VERIFIED_INSTALLATION=always$/m);
    expect(config).toContain(`PKG_PATH=${repo}`);
  });
});

describe("bundle-format.md", () => {
  it.runIf(SHELL)("builds, inspects and verifies a bundle as documented", async () => {
    const dir = await scratch("bundle-format");
    await seedDeveloperFiles(dir);
    const run = await runDocument("docs/bundle-format.md", dir);
    expectSuccess(run);
    expect(existsSync(path.join(dir, "pkg_keys.pem"))).toBe(true);
  });
});

describe("pkg_install-notes.md", () => {
  it.runIf(SHELL)("reproduces notes 1 and 4 with openssl smime and verify-package", async () => {
    const dir = await scratch("pkg_install-notes");
    await seedDeveloperFiles(dir);
    const run = await runDocument("docs/pkg_install-notes.md", dir);
    expectSuccess(run);
    expect(run.stdout).toContain("chain file only: refused");
    expect(run.stdout).toContain("intermediate embedded: Verification successful");
    expect(run.stdout).toMatch(/note-1\.0: NOT trusted: .*\[CERT_NO_ISSUER\]/);
    // Note 4: openssl accepts a signer found only in -certfile; pkg_install (and pkgtrust) refuse it.
    expect(run.stdout).toContain("openssl, signer in -certfile: Verification successful");
    expect(run.stdout).toContain("[PKG_SIGNER_NOT_EMBEDDED]");
  });
});
