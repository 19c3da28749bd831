import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRootCa, issueIntermediate, issueSigning } from "../../src/keys/issue.js";
import { requireTool } from "../fixtures/requirements.js";

const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-issue-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe.runIf(requireTool("openssl", "openssl's verification and reading of issued chains"))("issuing keys", () => {
  it.each(["ec-p256", "rsa-3072"] as const)("makes a %s chain that openssl accepts for S/MIME signing", async (algorithm) => {
    const root = await createRootCa({ commonName: "Test pkgsrc CA", days: 3650, algorithm });
    const intermediate = await issueIntermediate(root, { commonName: "Test developer CA", days: 730, pathLength: 0, algorithm });
    const signing = await issueSigning(intermediate, { commonName: "Test build machine", days: 90, algorithm });
    const rootFile = write(`${algorithm}-root.pem`, root.certificatePem);
    const interFile = write(`${algorithm}-inter.pem`, intermediate.certificatePem);
    const signFile = write(`${algorithm}-sign.pem`, signing.certificatePem);
    expect(openssl("verify", "-CAfile", rootFile, "-untrusted", interFile, "-purpose", "smimesign", signFile)).toContain(": OK");
    const text = openssl("x509", "-in", signFile, "-noout", "-text");
    expect(text).toContain("CA:FALSE");
    expect(text).toMatch(/Code Signing, E-mail Protection/);
    expect(openssl("x509", "-in", interFile, "-noout", "-text")).toMatch(/CA:TRUE, pathlen:0/);
    expect(openssl("x509", "-in", rootFile, "-noout", "-text")).toContain("Signature Algorithm: " + (algorithm === "ec-p256" ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption"));
    // The key file is the certificate's key.
    const keyFile = write(`${algorithm}-sign.key`, signing.privateKeyPem);
    expect(openssl("pkey", "-in", keyFile, "-pubout")).toBe(openssl("x509", "-in", signFile, "-noout", "-pubkey"));
  });
});
