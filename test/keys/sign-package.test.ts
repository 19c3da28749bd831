import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signPackage } from "../../src/keys/sign-package.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { makeableCompressions, makeInnerPackage } from "../fixtures/packages.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { runCli } from "../fixtures/cli.js";
import { requireTool } from "../fixtures/requirements.js";

const AR = requireTool("ar", "ar's listing of the signed archive");
const OPENSSL = requireTool("openssl", "openssl smime -verify of the signatures made");

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;
let dir: string;

beforeAll(async () => {
  pki = await TestPki.create();
  dir = mkdtempSync(join(pki.dir, "sign-"));
  root = await pki.root("Sign Root");
  ca = await pki.intermediate(root, "Sign CA");
  signer = await pki.signer(ca, "Sign Build");
});
afterAll(async () => pki?.cleanup());

function extract(file: string): string {
  const out = mkdtempSync(join(dir, "x-"));
  execFileSync("ar", ["x", file], { cwd: out });
  return out;
}

async function pkgtrustVerdict(file: string) {
  const anchors = readCertificateFile(root.certPem, "anchor").certificates;
  return verifyPackage(createReadStream(file), { anchors, chain: [] }, { time: NOW, policy: PKG_INSTALL_POLICY });
}

function opensslVerifies(file: string): boolean {
  const members = extract(file);
  const result = spawnSync("openssl", ["smime", "-verify", "-binary", "-inform", "PEM", "-in", join(members, "+PKG_SIGNATURE"), "-content", join(members, "+PKG_HASH"), "-CAfile", root.certPath, "-out", "/dev/null", "-attime", String(NOW.getTime() / 1000)]);
  return result.status === 0;
}

describe("signPackage", () => {
  it("writes pkg_install's format, which openssl smime -verify and pkgtrust accept", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "signed-1.0", payload: 150_000 });
    utimesSync(inner.path, new Date("2026-03-04T05:06:07Z"), new Date("2026-03-04T05:06:07Z"));
    const output = join(dir, "signed-1.0.tgz");
    const result = await signPackage({ input: inner.path, output, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca.certPem });
    expect(result).toMatchObject({ pkgname: "signed-1.0", fileSize: inner.bytes.length, blocks: Math.ceil(inner.bytes.length / 65536) });
    const mode = (statSync(inner.path).mode & 0o777).toString(8);
    expect(readFileSync(output, "latin1").slice(8, 68)).toMatch(new RegExp(`^\\+PKG_HASH +1772600767 +\\d+ +\\d+ +100${mode} +\\d+ +\`\\n$`));
    // ar's and openssl's reading of the result.
    if (AR) {
      // BSD ar, members in pkg_install's order, each with the input's stat (archive_entry_copy_stat).
      const listing = execFileSync("ar", ["tv", output], { encoding: "utf8" }).trim().split("\n");
      expect(listing.map((l) => l.split(" ").at(-1))).toEqual(["+PKG_HASH", "+PKG_SIGNATURE", inner.path.split("/").at(-1)]);
      const members = extract(output);
      expect(readFileSync(join(members, "+PKG_HASH"), "utf8")).toMatch(/^pkgsrc signature\n\nversion: 1\npkgname: signed-1.0\nalgorithm: SHA512\nblock size: 65536\nfile size: \d+\n\n/);
      expect(readFileSync(join(members, "+PKG_SIGNATURE"), "utf8")).toMatch(/^-----BEGIN PKCS7-----\n/);
      if (OPENSSL) expect(execFileSync("openssl", ["pkcs7", "-print_certs", "-noout", "-in", join(members, "+PKG_SIGNATURE")], { encoding: "utf8" })).toMatch(/subject=CN = Sign Build[\s\S]*subject=CN = Sign CA/);
      if (OPENSSL) expect(opensslVerifies(output)).toBe(true);
    }
    const verdict = await pkgtrustVerdict(output);
    expect(verdict).toMatchObject({ trusted: true, pkgname: "signed-1.0", signedAttributes: false });
  });

  it("signs a package whose size is an exact multiple of 65536, which pkg_install's signer cannot", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "even-1.0", payload: 100_000, exactSize: 2 * 65536 });
    expect(inner.bytes.length).toBe(131072);
    const output = join(dir, "even.tgz");
    const signed = await signPackage({ input: inner.path, output, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca.certPem });
    expect(signed.blocks).toBe(2);
    expect(signed.warnings.join()).toMatch(/cannot verify it/);
    if (AR && OPENSSL) expect(opensslVerifies(output)).toBe(true);
    // Correctly signed, but pkg_install's block reader would refuse it: so does pkgtrust's verdict.
    expect(await pkgtrustVerdict(output)).toMatchObject({ trusted: false, code: "PKG_LAST_BLOCK_BUG" });
  });

  it("can add signed attributes, which both verifiers accept", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "attrs-1.0" });
    const output = join(dir, "attrs.tgz");
    await signPackage({ input: inner.path, output, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca.certPem, signedAttributes: true });
    if (AR && OPENSSL) expect(opensslVerifies(output)).toBe(true);
    expect(await pkgtrustVerdict(output)).toMatchObject({ trusted: true, signedAttributes: true });
  });

  it.each(makeableCompressions(["none", "bzip2", "xz", "zstd", "gzip"] as const, "signing packages of every compression"))("signs an inner package compressed with %s", async (compression) => {
    const inner = await makeInnerPackage(dir, { pkgname: `c-${compression}-1.0`, payload: 90_000, compression });
    const output = join(dir, `c-${compression}.tgz`);
    const signed = await signPackage({ input: inner.path, output, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca.certPem });
    expect(signed).toMatchObject({ pkgname: `c-${compression}-1.0`, warnings: [] });
    if (AR && OPENSSL) expect(opensslVerifies(output)).toBe(true);
    expect(await pkgtrustVerdict(output)).toMatchObject({ trusted: true, pkgname: `c-${compression}-1.0` });
  });

  it("signs with a certificate that also has an extended key usage OpenSSL does not know, as pkg_admin does, and says so", async () => {
    const extra = await pki.signer(ca, "Sign Private EKU", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.4.1.99999.7"] });
    const inner = await makeInnerPackage(dir, { pkgname: "eku-1.0" });
    const output = join(dir, "eku.tgz");
    const signed = await signPackage({ input: inner.path, output, keyPem: extra.keyPem, certPem: extra.certPem, chainPem: ca.certPem });
    expect(signed.warnings.join()).toMatch(/1\.3\.6\.1\.4\.1\.99999\.7.*pkg_install ignores it/);
    const verdict = await pkgtrustVerdict(output);
    expect(verdict.trusted).toBe(true);
    expect(verdict.warnings.join()).toMatch(/pkg_install ignores it/);
  });

  it("signs with an RSA key", async () => {
    const rsa = await pki.signer(ca, "Sign RSA", { key: "rsa-2048" });
    const inner = await makeInnerPackage(dir, { pkgname: "rsa-1.0" });
    const output = join(dir, "rsa.tgz");
    await signPackage({ input: inner.path, output, keyPem: rsa.keyPem, certPem: rsa.certPem, chainPem: ca.certPem });
    if (AR && OPENSSL) expect(opensslVerifies(output)).toBe(true);
    expect((await pkgtrustVerdict(output)).trusted).toBe(true);
  });

  describe("refuses what pkg_install's signer refuses", () => {
    const attempt = async (who: { keyPem: string; certPem: string }) => {
      const inner = await makeInnerPackage(dir, { pkgname: "refused-1.0" });
      return signPackage({ input: inner.path, output: join(dir, "refused.tgz"), keyPem: who.keyPem, certPem: who.certPem });
    };
    it("a key that does not match the certificate", async () => {
      const other = await pki.signer(ca, "Other");
      await expect(attempt({ keyPem: other.keyPem, certPem: signer.certPem })).rejects.toThrowWithCode("KEY_CERT_MISMATCH");
    });
    it("a CA certificate", async () => {
      await expect(attempt(ca)).rejects.toThrowWithCode("SIGNER_IS_CA");
      const kcs = await pki.signer(ca, "KCS", { ca: undefined, keyUsage: ["digitalSignature", "keyCertSign"] });
      await expect(attempt(kcs)).rejects.toThrowWithCode("SIGNER_IS_CA");
    });
    it("the wrong extended key usage", async () => {
      await expect(attempt(await pki.signer(ca, "Code", { extendedKeyUsage: ["codeSigning"] }))).rejects.toThrowWithCode("SIGNER_WRONG_EKU");
      await expect(attempt(await pki.signer(ca, "None", { extendedKeyUsage: null }))).rejects.toThrowWithCode("SIGNER_WRONG_EKU");
      // A purpose OpenSSL knows makes the bit mask differ; DVCS is one.
      await expect(attempt(await pki.signer(ca, "DVCS", { extendedKeyUsage: ["codeSigning", "emailProtection", "1.3.6.1.5.5.7.3.10"] }))).rejects.toThrowWithCode("SIGNER_WRONG_EKU");
    });
    it("a certificate file with more than one certificate", async () => {
      await expect(attempt({ keyPem: signer.keyPem, certPem: signer.certPem + ca.certPem })).rejects.toThrowWithCode("SIGN_CERT_COUNT");
    });
    it("a file that is not a private key, or a key type pkg_install cannot verify", async () => {
      await expect(attempt({ keyPem: signer.certPem, certPem: signer.certPem })).rejects.toThrowWithCode("SIGN_KEY_READ");
      const ed25519 = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await expect(attempt({ keyPem: ed25519, certPem: signer.certPem })).rejects.toThrowWithCode("SIGN_KEY_READ");
    });
    it("an inner package that does not start with +CONTENTS", async () => {
      const inner = await makeInnerPackage(dir, { pkgname: "bad-1.0", firstEntry: "README" });
      await expect(signPackage({ input: inner.path, output: join(dir, "bad.tgz"), keyPem: signer.keyPem, certPem: signer.certPem })).rejects.toThrowWithCode("PKG_INNER_FORMAT");
    });
  });
});

describe("pkgtrust sign-package", () => {
  it("signs and reports in JSON", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "cli-1.0" });
    const output = join(dir, "cli.tgz");
    const chain = pki.writePem("cli-chain.pem", ca.certPem);
    const result = await runCli(["sign-package", inner.path, output, "--key", signer.keyPath, "--cert", signer.certPath, "--chain", chain, "--json"]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ output, pkgname: "cli-1.0", signer: { subject: "CN=Sign Build" }, embedded: [{ subject: "CN=Sign CA" }] });
    if (AR && OPENSSL) expect(opensslVerifies(output)).toBe(true);
  });

  it("prints a refusal with its code and exit status 3", async () => {
    const inner = await makeInnerPackage(dir, { pkgname: "cli-2.0" });
    const result = await runCli(["sign-package", inner.path, join(dir, "no.tgz"), "--key", ca.keyPath, "--cert", ca.certPath]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/\[SIGNER_IS_CA\]/);
  });

  it("needs --key and --cert", async () => {
    writeFileSync(join(dir, "in.tgz"), "x");
    expect((await runCli(["sign-package", join(dir, "in.tgz"), join(dir, "out.tgz"), "--cert", signer.certPath])).status).toBe(2);
  });
});
