/**
 * The one check every package repo sign produces goes through, and the repository
 * fixtures (test/fixtures/repo-sign.ts) the repo sign tests use.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { expect } from "vitest";
import { fileChunks } from "../../src/package/file-source.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { readCertificateFile } from "../../src/pki/certificate.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { NOW } from "../fixtures/pki.js";
import { opensslAnswer } from "../package/openssl-oracle.js";
import { requireTool } from "../fixtures/requirements.js";

export * from "../fixtures/repo-sign.js";

/**
 * The one check of a produced package: pkg_install (NetBSD 10) would accept it with
 * CERTIFICATE_ANCHOR_PKGS=anchor. Today: pkgtrust's verifier and `openssl smime -verify`
 * with pkg_install's signer rules (the oracle); the C reference of pkg_install's calls
 * joins here when it lands.
 */
export async function expectPkgInstallAccepts(file: string, anchorPath: string, time: Date = NOW): Promise<void> {
  const anchors = readCertificateFile(readFileSync(anchorPath, "utf8"), anchorPath).certificates;
  const verdict = await verifyPackage(fileChunks(file), { anchors, chain: [] }, { time, policy: PKG_INSTALL_POLICY });
  expect(verdict, `${file}: ${verdict.reason}`).toMatchObject({ trusted: true });
  const signer = verdict.signer;
  if (!signer) throw new Error("no signer");
  if (!requireTool("openssl", "openssl smime -verify of the packages repo sign made")) return;
  const signerCert = `${file}.signer.pem`;
  writeFileSync(signerCert, `-----BEGIN CERTIFICATE-----\n${Buffer.from(signer.der).toString("base64").replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`);
  try {
    const oracle = await opensslAnswer({ file, anchor: anchorPath, signerCert, signerSubject: signer.subject, time });
    expect(oracle, `${file}: ${oracle.smimeError}`).toMatchObject({ trusted: true });
  } finally {
    await rm(signerCert, { force: true });
  }
}
