/**
 * The one check every package repo sign produces goes through, and the repository
 * fixtures (test/fixtures/repo-sign.ts) the repo sign tests use.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { fileChunks } from "../../src/file-chunks.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { NOW } from "../fixtures/pki.js";
import { REFERENCE, referenceVerify } from "../reference/reference.js";

export * from "../fixtures/repo-sign.js";

/**
 * The one check of a produced package: pkg_install (NetBSD 10) accepts it with
 * CERTIFICATE_ANCHOR_PKGS=anchor and no CERTIFICATE_CHAIN, as the C reference of its calls
 * (test/reference/pkg-verify.c: easy_pkcs7_verify, the signer checks, every block read
 * through libarchive) says, and pkgtrust's own verifier agrees. Without a C compiler the
 * reference is skipped with the suite's notice (a failure under CI=true).
 */
export async function expectPkgInstallAccepts(file: string, anchorPath: string, time: Date = NOW): Promise<void> {
  const anchors = readCertificateFile(readFileSync(anchorPath, "utf8"), anchorPath).certificates;
  const verdict = await verifyPackage(fileChunks(file), { anchors, chain: [] }, { time, policy: PKG_INSTALL_POLICY });
  expect(verdict, `${file}: ${verdict.reason}`).toMatchObject({ trusted: true });
  if (!REFERENCE) return;
  const reference = referenceVerify({ file, anchor: anchorPath, time });
  expect(reference, `${file}: ${reference.line}`).toMatchObject({ trusted: true });
  expect(reference.blocksRead, `${file}: every block is read through the hash check`).toBe(reference.blocks);
}
