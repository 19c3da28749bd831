import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { runCli as runCliAt } from "../fixtures/cli.js";
import { TestPki, type Issued } from "../fixtures/pki.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "fingerprints compared with openssl's");

const runCli = (argv: string[]) => runCliAt(argv, { now: new Date("2026-06-01T00:00:00Z") });


let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;
let anchor: string;
let bundle: string;

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Command Root");
  ca = await pki.intermediate(root, "Command CA");
  signer = await pki.signer(ca, "Command Signer", { notAfter: new Date("2027-01-01T00:00:00Z") });
  anchor = root.certPath;
  bundle = pki.writePem("pkg_keys.pem", ca.certPem, signer.certPem);
});
afterAll(() => pki.cleanup());

describe("pkgtrust verify-bundle", () => {
  it("prints each certificate's verdict and exits 0 when all are valid", async () => {
    const result = await runCli(["verify-bundle", bundle, "--anchor", anchor]);
    expect(result.status).toBe(EXIT.OK);
    expect(result.stdout).toMatch(/^valid\s+intermediate\s+CN=Command CA$/m);
    expect(result.stdout).toMatch(/^valid\s+signing\s+CN=Command Signer$/m);
  });

  it("prints JSON whose fingerprints match openssl's", async () => {
    const result = await runCli(["verify-bundle", bundle, "--anchor", anchor, "--json"]);
    expect(result.status).toBe(EXIT.OK);
    const json = JSON.parse(result.stdout) as { certificates: { subject: string; sha256: string; role: string; status: string; reason: string; notAfter: string }[] };
    expect(json.certificates.map((c) => [c.subject, c.role, c.status])).toEqual([
      ["CN=Command CA", "intermediate", "valid"],
      ["CN=Command Signer", "signing", "valid"],
    ]);
    const fingerprint = spawnSync("openssl", ["x509", "-in", signer.certPath, "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" }).stdout;
    if (OPENSSL) expect(fingerprint.split("=")[1]?.trim().replace(/:/g, "").toLowerCase()).toBe(json.certificates[1]?.sha256);
    expect(json.certificates[1]?.notAfter).toBe("2027-01-01T00:00:00.000Z");
    // For people, the same fingerprint as openssl prints it: upper case with colons.
    const plain = await runCli(["verify-bundle", bundle, "--anchor", anchor]);
    const colons = (json.certificates[1]?.sha256.toUpperCase().match(/../g) ?? []).join(":");
    expect(plain.stdout).toContain(`sha256 ${colons}\n`);
    if (OPENSSL) expect(fingerprint.trim()).toBe(`sha256 Fingerprint=${colons}`);
  });

  it("exits 1 with the code of each invalid certificate (--at after expiry)", async () => {
    const result = await runCli(["verify-bundle", bundle, "--anchor", anchor, "--at", "2027-06-01T00:00:00Z", "--json"]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    const json = JSON.parse(result.stdout) as { valid: boolean; certificates: { status: string; code?: string }[] };
    expect(json.valid).toBe(false);
    expect(json.certificates.map((c) => c.code ?? c.status)).toEqual(["valid", "CERT_EXPIRED"]);
    const text = await runCli(["verify-bundle", bundle, "--anchor", anchor, "--at", "2027-06-01T00:00:00Z"]);
    expect(text.stdout).toMatch(/^invalid\s+signing\s+CN=Command Signer$/m);
    expect(text.stdout).toContain("[CERT_EXPIRED]");
  });

  it("accepts weak algorithms only with --allow-weak", async () => {
    const weak = await pki.signer(ca, "Weak Signer", { digest: "sha1" });
    const weakBundle = pki.writePem("weak.pem", ca.certPem, weak.certPem);
    expect((await runCli(["verify-bundle", weakBundle, "--anchor", anchor])).status).toBe(EXIT.UNTRUSTED);
    expect((await runCli(["verify-bundle", weakBundle, "--anchor", anchor, "--allow-weak"])).status).toBe(EXIT.OK);
  });

  it("exits 3 on a malformed bundle, naming the block's line", async () => {
    const withKey = pki.writePem("with-key.pem", ca.certPem, signer.keyPem);
    const result = await runCli(["verify-bundle", withKey, "--anchor", anchor, "--json"]);
    expect(result.status).toBe(EXIT.INPUT);
    const error = (JSON.parse(result.stdout) as { error: { code: string; detail: { line: number } } }).error;
    expect(error.code).toBe("PEM_UNEXPECTED_BLOCK");
    expect(error.detail.line).toBe(ca.certPem.split("\n").length);
    expect((await runCli(["verify-bundle", `${pki.dir}/missing.pem`, "--anchor", anchor])).status).toBe(EXIT.INPUT);
  });

  it("exits 2 without an anchor or with a bad time", async () => {
    expect((await runCli(["verify-bundle", bundle])).status).toBe(EXIT.USAGE);
    expect((await runCli(["verify-bundle", bundle, "--anchor", anchor, "--at", "yesterday"])).status).toBe(EXIT.USAGE);
  });
});
