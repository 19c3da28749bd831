import { createReadStream, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { readCertificateFile } from "../../src/pki/certificate.js";
import { verifyPackage, type PackageVerdict } from "../../src/package/verify-package.js";
import { buildPackageCases, type PackageCase, type PackageCases } from "../fixtures/cases.js";
import { NOW } from "../fixtures/pki.js";
import { opensslAnswer } from "./openssl-oracle.js";

let fixtures: PackageCases;
beforeAll(async () => {
  fixtures = await buildPackageCases();
});
afterAll(async () => fixtures?.cleanup());

function trustOf(c: PackageCase) {
  return {
    anchors: readCertificateFile(readFileSync(c.anchor, "utf8"), c.anchor).certificates,
    chain: c.chain ? readCertificateFile(readFileSync(c.chain, "utf8"), c.chain).certificates : [],
  };
}

function verify(c: PackageCase): Promise<PackageVerdict> {
  return verifyPackage(createReadStream(c.file, { highWaterMark: 16 * 1024 }), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY });
}

const CASES = [
  "good via an intermediate (RSA signer)",
  "signed by an ECDSA P-256 signer",
  "issued by the anchor directly",
  "two intermediates",
  "signed attributes present",
  "package size an exact multiple of 65536",
  "signer certificate only in the chain file",
  "intermediate only in the chain file",
  "signer EKU codeSigning only",
  "extra EKU serverAuth",
  "no EKU",
  "signer is a CA",
  "signer has keyCertSign",
  "signer expired",
  "signer not yet valid",
  "intermediate expired",
  "issuer not a CA",
  "pathlen exceeded",
  "chain to a look-alike root with the same name",
  "tampered block",
  "size mismatch",
  "edited +PKG_HASH",
  "signature by another key",
  "pkgname differing from @name",
  "malformed +PKG_HASH (upper-case hex), validly signed",
  "unsigned",
  "GPG-signed",
  "truncated",
  "made by sign-package",
];

describe("verifyPackage on every package case", () => {
  it("covers every case the fixtures make", () => {
    expect(fixtures.cases.map((c) => c.name).sort()).toEqual([...CASES].sort());
  });

  it.each(CASES)("%s", async (name) => {
    const c = fixtures.byName(name);
    const expected = c.expect;
    if ("throws" in expected) {
      await expect(verify(c)).rejects.toThrowWithCode(expected.throws);
      return;
    }
    const verdict = await verify(c);
    expect({ trusted: verdict.trusted, code: verdict.code }).toEqual(expected.trusted ? { trusted: true, code: undefined } : { trusted: false, code: expected.code });
    if (expected.trusted) {
      expect(verdict.pkgname).toBe("demo-1.0");
      expect(verdict.path?.at(-1)?.subject).toBe("CN=Test Root");
      if (expected.warning) expect(verdict.warnings.join("\n")).toMatch(expected.warning);
      else expect(verdict.warnings).toEqual([]);
    } else {
      expect(verdict.newerOpenSSL?.trusted).toBe(expected.newerOpenSSL);
    }
  });
});

describe("cross-check against openssl smime -verify and pkg_install's signer rules", () => {
  const signed = CASES.filter((n) => !["unsigned", "GPG-signed", "truncated"].includes(n));
  it.each(signed)("%s", async (name) => {
    const c = fixtures.byName(name);
    if (!c.signer) throw new Error("case without signer");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer.certPath, signerSubject: c.signer.subject, time: NOW });
    const verdict = await verify(c).catch(() => ({ trusted: false }) as const);
    if (name === "pkgname differing from @name") {
      // pkg_install never compares pkgname with @name (the XXX in pkg_signature.c): pkgtrust does.
      expect(oracle.trusted).toBe(true);
      expect(verdict.trusted).toBe(false);
      return;
    }
    expect(verdict.trusted, JSON.stringify(oracle)).toBe(oracle.trusted);
  });

  it("openssl 3.0 refuses an intermediate given only as -certfile, as pkgtrust says", async () => {
    const c = fixtures.byName("intermediate only in the chain file");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer!.certPath, signerSubject: c.signer!.subject, time: NOW });
    expect(oracle.smimeVerified).toBe(false);
    expect(oracle.smimeError).toMatch(/unable to get local issuer certificate/);
  });

  it("openssl accepts a signer given only as -certfile, which pkg_install then refuses", async () => {
    const c = fixtures.byName("signer certificate only in the chain file");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer!.certPath, signerSubject: c.signer!.subject, time: NOW });
    expect(oracle.smimeVerified).toBe(true);
    expect(oracle.signerEmbedded).toBe(false);
  });
});
