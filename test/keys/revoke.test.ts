import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { defaultCrlPath, parseSerial, serialContentHex } from "../../src/keys/revoke.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { openssl, pkgtrust } from "./operator-cli.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl's reading and verification of the CRLs");

let pki: TestPki;
let root: Issued;
let ca: Issued;
let build: Issued;
const dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-revoke-"));

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("pkgsrc CA");
  ca = await pki.intermediate(root, "pkgsrc developer CA");
  build = await pki.signer(ca, "build machine");
});
afterAll(async () => {
  await pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
/** A directory holding dev-ca.pem and dev-ca.key for `issuer`. */
function caDir(issuer: Issued = ca): string {
  const cwd = mkdtempSync(path.join(dir, `ca${count++}-`));
  writeFileSync(path.join(cwd, "dev-ca.pem"), issuer.certPem);
  writeFileSync(path.join(cwd, "dev-ca.key"), issuer.keyPem, { mode: 0o600 });
  writeFileSync(path.join(cwd, "root.pem"), root.certPem);
  writeFileSync(path.join(cwd, "build.pem"), build.certPem);
  return cwd;
}

const revoke = (cwd: string, serial: string, ...extra: string[]) =>
  pkgtrust(["keys", "revoke", "--ca-cert", "dev-ca.pem", "--ca-key", "dev-ca.key", "--serial", serial, "--json", ...extra], { cwd, now: NOW });

describe("pkgtrust keys revoke", () => {
  it("creates the CA's CRL beside its certificate, which openssl verifies and applies", async () => {
    const cwd = caDir();
    const result = await revoke(cwd, build.serial);
    expect(result.status, result.stdout).toBe(EXIT.OK);
    expect(result.json).toMatchObject({ crl: "dev-ca.crl.pem", number: "1", alreadyRevoked: false, revoked: [parseSerial(build.serial)] });
    expect(Date.parse(result.json.nextUpdate) - NOW.getTime()).toBe(30 * 86_400_000);
    if (OPENSSL) {
      expect((await openssl(["crl", "-in", "dev-ca.crl.pem", "-CAfile", "dev-ca.pem", "-verify", "-noout"], cwd)).output).toContain("verify OK");
      const text = (await openssl(["crl", "-in", "dev-ca.crl.pem", "-noout", "-text"], cwd)).output;
      expect(text).toMatch(/X509v3 CRL Number: \s*1\n/);
      expect(text).toContain("X509v3 Authority Key Identifier");
      // The build certificate is now revoked for openssl too.
      writeFileSync(path.join(cwd, "cas.pem"), root.certPem + ca.certPem);
      const verdict = await openssl(["verify", "-CAfile", "cas.pem", "-crl_check", "-CRLfile", "dev-ca.crl.pem", "-purpose", "smimesign", "build.pem"], cwd);
      expect(verdict.ok).toBe(false);
      expect(verdict.output).toContain("certificate revoked");
    }
  });

  it("keeps the earlier entries and their dates, and raises the CRL number by one", async () => {
    const cwd = caDir();
    await revoke(cwd, "1234");
    const first = readFileSync(path.join(cwd, "dev-ca.crl.pem"), "utf8");
    const second = await pkgtrust(["keys", "revoke", "--ca-cert", "dev-ca.pem", "--ca-key", "dev-ca.key", "--serial", build.serial, "--json"], { cwd, now: new Date(NOW.getTime() + 86_400_000) });
    expect(second.json).toMatchObject({ number: "2", revoked: ["1234", parseSerial(build.serial)] });
    const [before] = readCertificateFile(first, "first").crls;
    const [after] = readCertificateFile(readFileSync(path.join(cwd, "dev-ca.crl.pem"), "utf8"), "second").crls;
    const date = (crl: typeof before, serial: string) => crl?.parsed.entries.find((e) => parseSerial(e.serialNumber) === serial)?.revocationDate.getTime();
    expect(date(after, "1234")).toBe(date(before, "1234"));
    expect(date(after, parseSerial(build.serial))).toBe(NOW.getTime() + 86_400_000);
    if (OPENSSL) expect((await openssl(["crl", "-in", "dev-ca.crl.pem", "-CAfile", "dev-ca.pem", "-verify", "-noout"], cwd)).ok).toBe(true);
  });

  it("signs again, with a new number, when the serial is already revoked", async () => {
    const cwd = caDir();
    await revoke(cwd, "abcd");
    const again = await revoke(cwd, "AB:CD");
    expect(again.json).toMatchObject({ number: "2", alreadyRevoked: true, revoked: ["abcd"] });
  });

  it("accepts openssl's serial forms: 0x prefix, colons, upper case, leading zeros, top bit set", async () => {
    const cwd = caDir();
    await revoke(cwd, "0x00FF:01");
    await revoke(cwd, "80");
    const result = await revoke(cwd, "0001");
    expect(result.json.revoked).toEqual(["ff01", "80", "1"]);
    // A serial with the top bit set is encoded as a positive INTEGER: openssl prints no minus sign.
    if (OPENSSL) {
      const text = (await openssl(["crl", "-in", "dev-ca.crl.pem", "-noout", "-text"], cwd)).output;
      expect(text).toMatch(/Serial Number: FF01\n/);
      expect(text).toMatch(/Serial Number: 80\n/);
      expect(text).not.toContain("-80");
    }
  });

  it("refuses a serial that is not hexadecimal, and changes no file", async () => {
    const cwd = caDir();
    await revoke(cwd, "01");
    const before = readFileSync(path.join(cwd, "dev-ca.crl.pem"));
    for (const bad of ["xyz", "", "0", "12 34", "0x", "1".repeat(41)]) {
      const result = await revoke(cwd, bad);
      expect(result.status, bad).toBe(EXIT.USAGE);
      expect(["KEYS_BAD_SERIAL", "USAGE_BAD_VALUE"]).toContain(result.json.error.code);
    }
    expect(readFileSync(path.join(cwd, "dev-ca.crl.pem"))).toEqual(before);
  });

  it("refuses to extend a CRL another CA signed, or a CRL forged in this CA's name", async () => {
    const cwd = caDir();
    const other = await pki.intermediate(root, "another CA");
    writeFileSync(path.join(cwd, "foreign.pem"), (await pki.crl(other, [], { number: 7 })).pem);
    const foreign = await revoke(cwd, "12", "--crl", "foreign.pem");
    expect(foreign.status).toBe(EXIT.INPUT);
    expect(foreign.json.error.code).toBe("KEYS_CRL_FOREIGN");
    writeFileSync(path.join(cwd, "forged.pem"), (await pki.crl(ca, [], { number: 7, signWith: other })).pem);
    expect((await revoke(cwd, "12", "--crl", "forged.pem")).json.error.code).toBe("KEYS_CRL_FOREIGN");
    writeFileSync(path.join(cwd, "junk.pem"), ca.certPem);
    expect((await revoke(cwd, "12", "--crl", "junk.pem")).json.error.code).toBe("KEYS_CRL_UNREADABLE");
  });

  it("refuses a CA whose keyUsage lacks cRLSign, since clients would refuse its CRL", async () => {
    const noCrlSign = await pki.intermediate(root, "no crl CA", { keyUsage: ["keyCertSign"] });
    const result = await revoke(caDir(noCrlSign), "12");
    expect(result.json.error.code).toBe("KEYS_CA_NOT_CRL_SIGNER");
  });

  it("names the default CRL after the CA certificate", () => {
    expect(defaultCrlPath("keys/dev-ca.pem")).toBe(path.join("keys", "dev-ca.crl.pem"));
    expect(defaultCrlPath("/etc/ca.CRT")).toBe("/etc/ca.crl.pem");
    expect(defaultCrlPath("ca")).toBe("ca.crl.pem");
  });

  it("encodes every serial as a minimal positive DER integer", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 159n) - 1n }), (value) => {
        const content = serialContentHex(parseSerial(value.toString(16)));
        expect(content.length % 2).toBe(0);
        expect(BigInt(`0x${content}`)).toBe(value);
        expect(parseInt(content.slice(0, 2), 16)).toBeLessThan(0x80);
        // No redundant leading zero octet (X.690 8.3.2).
        if (content.startsWith("00")) expect(parseInt(content.slice(2, 4), 16)).toBeGreaterThanOrEqual(0x80);
      }),
    );
  });
});

describe("pkgtrust keys crl", () => {
  const renew = (cwd: string, now: Date, ...extra: string[]) => pkgtrust(["keys", "crl", "--ca-cert", "dev-ca.pem", "--ca-key", "dev-ca.key", "--json", ...extra], { cwd, now });
  const later = new Date(NOW.getTime() + 20 * 86_400_000);

  it("renews the CRL without revoking: same entries and dates, number one up, fresh thisUpdate and nextUpdate", async () => {
    const cwd = caDir();
    await revoke(cwd, build.serial);
    const [before] = readCertificateFile(readFileSync(path.join(cwd, "dev-ca.crl.pem"), "utf8"), "before").crls;
    const renewed = await renew(cwd, later);
    expect(renewed.status, renewed.stdout).toBe(EXIT.OK);
    expect(renewed.json).toMatchObject({ action: "crl", crl: "dev-ca.crl.pem", number: "2", alreadyRevoked: false, revoked: [parseSerial(build.serial)], thisUpdate: later.toISOString() });
    expect(renewed.json.serialNumber).toBeUndefined();
    expect(Date.parse(renewed.json.nextUpdate) - later.getTime()).toBe(30 * 86_400_000);
    const [after] = readCertificateFile(readFileSync(path.join(cwd, "dev-ca.crl.pem"), "utf8"), "after").crls;
    expect(after?.parsed.entries.map((e) => e.revocationDate.getTime())).toEqual(before?.parsed.entries.map((e) => e.revocationDate.getTime()));
    if (OPENSSL) expect((await openssl(["crl", "-in", "dev-ca.crl.pem", "-CAfile", "dev-ca.pem", "-verify", "-noout"], cwd)).output).toContain("verify OK");
  });

  it("creates an empty CRL when there is none; a root's lasts a year by default, --next-update-days sets it", async () => {
    const cwd = caDir(root);
    const first = await renew(cwd, NOW);
    expect(first.json).toMatchObject({ number: "1", revoked: [] });
    expect(Date.parse(first.json.nextUpdate) - NOW.getTime()).toBe(365 * 86_400_000);
    const second = await renew(cwd, later, "--next-update-days", "200");
    expect(second.json).toMatchObject({ number: "2", revoked: [] });
    expect(Date.parse(second.json.nextUpdate) - later.getTime()).toBe(200 * 86_400_000);
    const plain = await pkgtrust(["keys", "crl", "--ca-cert", "dev-ca.pem", "--ca-key", "dev-ca.key"], { cwd, now: later });
    expect(plain.stdout).toMatch(/CRL number 3 of CN=pkgsrc CA, 0 revoked, next update .*\n {2}renewed: no serial added/);
  });

  it("refuses another CA's CRL and takes no --serial", async () => {
    const cwd = caDir();
    writeFileSync(path.join(cwd, "foreign.pem"), (await pki.crl(root, [], { number: 7 })).pem);
    const before = readFileSync(path.join(cwd, "foreign.pem"));
    expect((await renew(cwd, NOW, "--crl", "foreign.pem")).json.error.code).toBe("KEYS_CRL_FOREIGN");
    expect(readFileSync(path.join(cwd, "foreign.pem"))).toEqual(before);
    expect((await renew(cwd, NOW, "--serial", "12")).json.error.code).toBe("USAGE_UNKNOWN_OPTION");
  });
});
