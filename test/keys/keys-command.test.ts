import { createPrivateKey } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { TestPki } from "../fixtures/pki.js";
import { openssl, pkgtrust } from "./operator-cli.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl's verification and reading of the issued certificates");

const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let subdirs = 0;
function workdir(): string {
  return mkdtempSync(path.join(dir, `w${subdirs++}-`));
}

const keys = (argv: string[], cwd: string, now?: Date) => pkgtrust(["keys", ...argv, "--json"], { cwd, ...(now ? { now } : {}) });
const out = (name: string) => ["--out-cert", `${name}.pem`, "--out-key", `${name}.key`];
const from = (name: string) => ["--ca-cert", `${name}.pem`, "--ca-key", `${name}.key`];
const DAY_MS = 86_400_000;

async function chain(cwd: string, keyType: "ec-p256" | "rsa-3072" = "ec-p256") {
  const type = ["--key-type", keyType];
  const root = await keys(["init-ca", "--cn", "pkgsrc CA", ...out("root"), ...type], cwd);
  const dev = await keys(["issue-intermediate", ...from("root"), "--cn", "pkgsrc developer CA", ...out("dev"), ...type], cwd);
  const build = await keys(["issue-signing", ...from("dev"), "--cn", "build machine", ...out("build"), ...type], cwd);
  return { root, dev, build };
}

describe("pkgtrust keys", () => {
  it.each(["ec-p256", "rsa-3072"] as const)("issues a %s root, developer CA and build certificate that openssl accepts for S/MIME signing", async (keyType) => {
    const cwd = workdir();
    const { root, dev, build } = await chain(cwd, keyType);
    for (const result of [root, dev, build]) expect(result.status, result.stderr + result.stdout).toBe(EXIT.OK);
    if (OPENSSL) expect((await openssl(["verify", "-CAfile", "root.pem", "-untrusted", "dev.pem", "-purpose", "smimesign", "build.pem"], cwd)).output).toContain("build.pem: OK");
    // The CAs passed the CA-side checks of that purpose above; as leaves they verify without a purpose
    // (the S/MIME signing purpose wants digitalSignature in a leaf, which a CA key has no use for).
    if (OPENSSL) expect((await openssl(["verify", "-CAfile", "root.pem", "dev.pem"], cwd)).ok).toBe(true);
    // openssl's reading of the extensions.
    if (OPENSSL) {
      const devText = (await openssl(["x509", "-in", "dev.pem", "-noout", "-text"], cwd)).output;
      expect(devText).toMatch(/CA:TRUE, pathlen:0/);
      expect(devText).toMatch(/Certificate Sign, CRL Sign/);
      expect(devText).toContain("X509v3 Subject Key Identifier");
      expect(devText).toContain("X509v3 Authority Key Identifier");
      const buildText = (await openssl(["x509", "-in", "build.pem", "-noout", "-text"], cwd)).output;
      expect(buildText).toContain("CA:FALSE");
      expect(buildText).toMatch(/Key Usage: critical\s+Digital Signature\n/);
      expect(buildText).toMatch(/Extended Key Usage: \s*Code Signing, E-mail Protection\n/);
      expect(buildText).toContain(keyType === "ec-p256" ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption");
      expect(buildText).toContain(keyType === "ec-p256" ? "prime256v1" : "(3072 bit)");
    }
    // Each key file is its certificate's key.
    for (const name of ["root", "dev", "build"]) {
      if (OPENSSL) expect((await openssl(["pkey", "-in", `${name}.key`, "-pubout"], cwd)).output).toBe((await openssl(["x509", "-in", `${name}.pem`, "-noout", "-pubkey"], cwd)).output);
    }
    expect(build.json).toMatchObject({ action: "issue-signing", certificate: { subject: "CN=build machine", issuer: "CN=pkgsrc developer CA" }, key: { path: "build.key", type: keyType, mode: "0600" } });
  });

  it("writes private keys with mode 0600 and certificates with mode 0644, whatever the umask", async () => {
    const cwd = workdir();
    const previous = process.umask(0o077);
    try {
      await chain(cwd);
    } finally {
      process.umask(previous);
    }
    for (const name of ["root", "dev", "build"]) {
      expect(statSync(path.join(cwd, `${name}.key`)).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(cwd, `${name}.pem`)).mode & 0o777).toBe(0o644);
    }
  });

  it("uses the default lifetimes: root 7300 days, intermediate 1825, build certificate 90", async () => {
    const { root, dev, build } = await chain(workdir());
    const lifetime = (json: { certificate: { notBefore: string; notAfter: string } }) => (Date.parse(json.certificate.notAfter) - Date.parse(json.certificate.notBefore)) / DAY_MS;
    expect([lifetime(root.json), lifetime(dev.json), lifetime(build.json)]).toEqual([7300, 1825, 90]);
  });

  it("refuses to overwrite an existing key or certificate, or to write through a symlink, and generates nothing", async () => {
    const cwd = workdir();
    writeFileSync(path.join(cwd, "root.key"), "precious\n");
    const refused = await keys(["init-ca", "--cn", "pkgsrc CA", ...out("root")], cwd);
    expect(refused.status).toBe(EXIT.USAGE);
    expect(refused.json.error.code).toBe("KEYS_OUTPUT_EXISTS");
    expect(readFileSync(path.join(cwd, "root.key"), "utf8")).toBe("precious\n");
    expect(existsSync(path.join(cwd, "root.pem"))).toBe(false);

    writeFileSync(path.join(cwd, "elsewhere"), "not a key\n");
    symlinkSync(path.join(cwd, "elsewhere"), path.join(cwd, "link.key"));
    const viaLink = await keys(["init-ca", "--cn", "pkgsrc CA", "--out-cert", "other.pem", "--out-key", "link.key"], cwd);
    expect(viaLink.json.error.code).toBe("KEYS_OUTPUT_EXISTS");
    expect(readFileSync(path.join(cwd, "elsewhere"), "utf8")).toBe("not a key\n");
    expect(existsSync(path.join(cwd, "other.pem"))).toBe(false);
  });

  it("issues a developer CA under a master CA with --path-length 1, and refuses a CA below a path length 0 CA", async () => {
    const cwd = workdir();
    await keys(["init-ca", "--cn", "pkgsrc CA", ...out("root")], cwd);
    expect((await keys(["issue-intermediate", ...from("root"), "--cn", "pkgsrc master CA", "--path-length", "1", ...out("master")], cwd)).status).toBe(EXIT.OK);
    expect((await keys(["issue-intermediate", ...from("master"), "--cn", "pkgsrc developer CA", ...out("dev")], cwd)).status).toBe(EXIT.OK);
    const issued = await pkgtrust(["keys", "issue-signing", ...from("dev"), "--cn", "build machine", ...out("build")], { cwd });
    expect(issued.status).toBe(EXIT.OK);
    // Plain output shows the fingerprint for people: upper case with colons.
    expect(issued.stdout).toMatch(/^ {2}sha256 {3}(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    writeFileSync(path.join(cwd, "cas.pem"), readFileSync(path.join(cwd, "master.pem"), "utf8") + readFileSync(path.join(cwd, "dev.pem"), "utf8"));
    if (OPENSSL) expect((await openssl(["verify", "-CAfile", "root.pem", "-untrusted", "cas.pem", "-purpose", "smimesign", "build.pem"], cwd)).output).toContain("build.pem: OK");

    const below = await keys(["issue-intermediate", ...from("dev"), "--cn", "one too deep", ...out("deep")], cwd);
    expect(below.status).toBe(EXIT.INPUT);
    expect(below.json.error.code).toBe("KEYS_CA_PATH_LENGTH");
    expect(existsSync(path.join(cwd, "deep.key"))).toBe(false);
  });

  it("refuses an issuer that is not a CA, a key that is not the CA's, an unreadable key, and a CA outside its validity", async () => {
    const cwd = workdir();
    await chain(cwd);
    const notCa = await keys(["issue-signing", ...from("build"), "--cn", "x", ...out("x1")], cwd);
    expect(notCa.json.error.code).toBe("KEYS_NOT_A_CA");
    const mismatch = await keys(["issue-signing", "--ca-cert", "dev.pem", "--ca-key", "root.key", "--cn", "x", ...out("x2")], cwd);
    expect(mismatch.json.error.code).toBe("KEYS_KEY_MISMATCH");
    const encryptedPem = createPrivateKey(readFileSync(path.join(cwd, "dev.key"))).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" });
    writeFileSync(path.join(cwd, "dev-encrypted.key"), encryptedPem);
    const encrypted = await keys(["issue-signing", "--ca-cert", "dev.pem", "--ca-key", "dev-encrypted.key", "--cn", "x", ...out("x3")], cwd);
    expect(encrypted.json.error.code).toBe("KEYS_KEY_UNREADABLE");
    const missing = await keys(["issue-signing", "--ca-cert", "nowhere.pem", "--ca-key", "dev.key", "--cn", "x", ...out("x4")], cwd);
    expect(missing.status).toBe(EXIT.INPUT);
    expect(missing.json.error.code).toBe("KEYS_INPUT_UNREADABLE");
    const later = await keys(["issue-signing", ...from("dev"), "--cn", "x", ...out("x5")], cwd, new Date(Date.now() + 1900 * DAY_MS));
    expect(later.json.error.code).toBe("KEYS_CA_NOT_VALID_NOW");
    for (const n of [1, 2, 3, 4, 5]) expect(existsSync(path.join(cwd, `x${n}.key`))).toBe(false);
  });

  it("refuses a CA certificate file with more than one certificate", async () => {
    const cwd = workdir();
    await chain(cwd);
    writeFileSync(path.join(cwd, "both.pem"), readFileSync(path.join(cwd, "dev.pem"), "utf8") + readFileSync(path.join(cwd, "root.pem"), "utf8"));
    const result = await keys(["issue-signing", "--ca-cert", "both.pem", "--ca-key", "dev.key", "--cn", "x", ...out("x")], cwd);
    expect(result.json.error.code).toBe("KEYS_CA_CERT_COUNT");
  });

  it("accepts a CA made by openssl, and keeps a common name with a comma as one attribute", async () => {
    const pki = await TestPki.create();
    try {
      const root = await pki.root("external root");
      const cwd = workdir();
      writeFileSync(path.join(cwd, "ext.pem"), root.certPem);
      writeFileSync(path.join(cwd, "ext.key"), root.keyPem);
      chmodSync(path.join(cwd, "ext.key"), 0o600);
      const issued = await keys(["issue-intermediate", ...from("ext"), "--cn", "Example, Inc. CA", ...out("dev")], cwd);
      expect(issued.status, issued.stdout).toBe(EXIT.OK);
      if (OPENSSL) expect((await openssl(["x509", "-in", "dev.pem", "-noout", "-subject", "-nameopt", "RFC2253"], cwd)).output.trim()).toBe("subject=CN=Example\\, Inc. CA");
      if (OPENSSL) expect((await openssl(["verify", "-CAfile", "ext.pem", "dev.pem"], cwd)).ok).toBe(true);
    } finally {
      await pki.cleanup();
    }
  });

  it("warns when a certificate would outlive its issuer", async () => {
    const cwd = workdir();
    await keys(["init-ca", "--cn", "short root", "--days", "10", ...out("root")], cwd);
    const result = await keys(["issue-signing", ...from("root"), "--cn", "build", ...out("build")], cwd);
    expect(result.status).toBe(EXIT.OK);
    expect(result.json.warnings).toHaveLength(1);
  });

  it("rejects bad command lines with usage errors", async () => {
    const cwd = workdir();
    expect((await keys(["init-ca", ...out("r")], cwd)).json.error.code).toBe("USAGE_BAD_VALUE");
    expect((await keys(["init-ca", "--cn", "x", "--key-type", "ed25519", ...out("r")], cwd)).json.error.code).toBe("USAGE_BAD_VALUE");
    expect((await keys(["init-ca", "--cn", "x", "--days", "0", ...out("r")], cwd)).json.error.code).toBe("USAGE_BAD_VALUE");
    expect((await keys(["init-ca", "--cn", "x", "--days", "ten", ...out("r")], cwd)).json.error.code).toBe("USAGE_BAD_VALUE");
    expect((await keys(["issue-ca", "--cn", "x"], cwd)).json.error.code).toBe("USAGE_UNKNOWN_COMMAND");
    expect((await keys([], cwd)).json.error.code).toBe("USAGE_MISSING_ARGUMENT");
    expect((await keys(["init-ca", "--cn", "x", "stray", ...out("r")], cwd)).json.error.code).toBe("USAGE_BAD_OPTION");
    expect(existsSync(path.join(cwd, "r.key"))).toBe(false);
  });

  it("prints every subcommand and why build certificates are short-lived in --help", async () => {
    const help = await pkgtrust(["keys", "--help"], { cwd: dir });
    expect(help.status).toBe(EXIT.OK);
    for (const word of ["keys init-ca", "keys issue-intermediate", "keys issue-signing", "keys revoke", "--key-type", "pkg_install consults no CRL"]) expect(help.stdout).toContain(word);
  });
});
