import { createReadStream, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCertificateFile } from "../../src/pki/certificate.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { buildPackageCases, type PackageCase, type PackageCases } from "../fixtures/cases.js";
import { NOW } from "../fixtures/pki.js";
import { REFERENCE, referenceClassesOf, referenceVerify } from "../reference/reference.js";

let fixtures: PackageCases;
beforeAll(async () => {
  fixtures = await buildPackageCases();
});
afterAll(async () => fixtures?.cleanup());

/** pkgtrust's answer as trusted or the code of the refusal, thrown or returned. */
async function pkgtrustAnswer(c: PackageCase): Promise<{ trusted: boolean; code?: string }> {
  const read = (file: string) => readCertificateFile(readFileSync(file, "utf8"), file).certificates;
  const trust = { anchors: read(c.anchor), chain: c.chain ? read(c.chain) : [] };
  try {
    const verdict = await verifyPackage(createReadStream(c.file, { highWaterMark: 16 * 1024 }), trust, { time: NOW, policy: PKG_INSTALL_POLICY });
    return verdict.trusted ? { trusted: true } : { trusted: false, code: verdict.code ?? "?" };
  } catch (error) {
    return { trusted: false, code: (error as { code?: string }).code ?? String(error) };
  }
}

describe.skipIf(!REFERENCE)("the verdict of pkg_install's own calls (test/reference/pkg-verify.c) on every package case", () => {
  it("has cases for every inner compression, X509_check_ca branch and EKU rule", () => {
    const names = fixtures.cases.map((c) => c.name).join("\n");
    for (const must of ["bzip2", "xz", "zstd", "uncompressed", "private EKU", "keyCertSign with CA:FALSE", "Netscape", "version 1", "RSA 4096", "P-384", "extra ar members"]) expect(names).toContain(must);
  });

  it("agrees on each case, and refuses for the same kind of reason", async () => {
    const disagreements: string[] = [];
    for (const c of fixtures.cases) {
      const reference = referenceVerify({ file: c.file, anchor: c.anchor, chain: c.chain, time: NOW });
      const ours = await pkgtrustAnswer(c);
      const classes = ours.code === undefined ? undefined : referenceClassesOf(ours.code);
      // pkg_install never compares @name with +PKG_HASH: there pkgtrust alone refuses, by design.
      // A package may fail in two ways (a bad signature and bad blocks): either refusal agrees.
      const referenceClasses = [reference.class, reference.signature];
      const agrees = classes === "pkgtrust-only" ? reference.trusted : ours.trusted === reference.trusted && (ours.trusted || (classes?.some((k) => referenceClasses.includes(k)) ?? false));
      if (!agrees) disagreements.push(`${c.name}: pkgtrust ${ours.trusted ? "trusted" : ours.code}, reference ${reference.line}`);
    }
    expect(disagreements).toEqual([]);
  });

  it("reads every block of a normal package, and so meets the 65536-multiple bug", () => {
    const good = referenceVerify({ file: fixtures.byName("signed by an ECDSA P-256 signer").file, anchor: fixtures.byName("signed by an ECDSA P-256 signer").anchor, time: NOW });
    expect(good).toMatchObject({ trusted: true });
    expect(good.blocksRead).toBe(good.blocks);
    const even = fixtures.byName("package size an exact multiple of 65536");
    expect(referenceVerify({ file: even.file, anchor: even.anchor, time: NOW })).toMatchObject({ trusted: false, class: "block" });
  });
});
