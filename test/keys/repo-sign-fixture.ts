/**
 * Repositories for the repo sign tests and bench, made at test time: packages signed by an
 * old build certificate (or not signed), a pkg_summary in each compression, and the one
 * check every produced package goes through, `expectPkgInstallAccepts`.
 *
 *   const keys = await RepoKeys.create();
 *   const repo = await writeRepository(dir, keys, [{ pkgname: "foo-1.0" }, { pkgname: "bar-2.0", signed: false }]);
 *   await expectPkgInstallAccepts(join(dir, "foo-1.0.tgz"), keys.anchorPath);
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import { signPackage } from "../../src/keys/sign-package.js";
import { fileChunks } from "../../src/package/file-source.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { readCertificateFile } from "../../src/pki/certificate.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { makeInnerPackage } from "../fixtures/packages.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { opensslAnswer } from "../package/openssl-oracle.js";

export class RepoKeys {
  private constructor(
    readonly pki: TestPki,
    readonly root: Issued,
    readonly ca: Issued,
    /** The expiring build certificate that signed the published packages. */
    readonly old: Issued,
    /** Its successor, which repo sign signs with. */
    readonly next: Issued,
    readonly anchorPath: string,
    readonly chainPath: string,
  ) {}

  static async create(): Promise<RepoKeys> {
    const pki = await TestPki.create();
    const root = await pki.root("Repo Root");
    const ca = await pki.intermediate(root, "Repo Dev CA");
    const old = await pki.signer(ca, "Build Old");
    const next = await pki.signer(ca, "Build Next");
    return new RepoKeys(pki, root, ca, old, next, pki.writePem("anchor.pem", root.certPem), pki.writePem("chain.pem", ca.certPem));
  }

  /** The repo sign arguments that sign with `next`. */
  signArgs(dir: string): string[] {
    return ["repo", "sign", dir, "--key", this.next.keyPath, "--cert", this.next.certPath, "--anchor", this.anchorPath, "--chain", this.chainPath];
  }

  cleanup(): Promise<void> {
    return this.pki.cleanup();
  }
}

export interface PackageSpec {
  readonly pkgname: string;
  /** Bytes of incompressible payload (default 300). */
  readonly payload?: number;
  /** "old" (default): signed by the old certificate; false: an unsigned package. */
  readonly signed?: "old" | false;
  /** The file name, when it must differ from PKGNAME.tgz. */
  readonly file?: string;
}

export interface SummaryOptions {
  readonly compressions?: readonly ("gz" | "bz2" | "xz")[];
  /** Adds FILE_CKSUM=sha512 HEX to every entry. */
  readonly cksum?: boolean;
}

export function fileName(spec: PackageSpec): string {
  return spec.file ?? `${spec.pkgname}.tgz`;
}

/** Writes the packages into `dir` and returns the inner package bytes by file name. */
export async function writePackages(dir: string, keys: RepoKeys, specs: readonly PackageSpec[]): Promise<Map<string, Buffer>> {
  const inners = new Map<string, Buffer>();
  const scratch = await mkdtemp(join(keys.pki.dir, "inner-"));
  try {
    for (const spec of specs) {
      const inner = await makeInnerPackage(scratch, { pkgname: spec.pkgname, payload: spec.payload ?? 300 });
      const target = join(dir, fileName(spec));
      if (spec.signed === false) writeFileSync(target, inner.bytes);
      else await signPackage({ input: inner.path, output: target, keyPem: keys.old.keyPem, certPem: keys.old.certPem, chainPem: keys.ca.certPem });
      inners.set(fileName(spec), inner.bytes);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return inners;
}

/** pkg_summary(5) text for the files, as pkg_info -X writes it (with a latin1 byte and a CR-free multi-line DESCRIPTION). */
export function summaryText(dir: string, specs: readonly PackageSpec[], options: SummaryOptions = {}): string {
  return specs
    .map((spec) => {
      const file = join(dir, fileName(spec));
      const lines = [
        `PKGNAME=${spec.pkgname}`,
        "COMMENT=A test package",
        `FILE_NAME=${fileName(spec)}`,
        `FILE_SIZE=${statSync(file).size}`,
        ...(options.cksum ? [`FILE_CKSUM=sha512 ${createHash("sha512").update(readFileSync(file)).digest("hex")}`] : []),
        "DESCRIPTION=First line,",
        "DESCRIPTION=caf\u00e9 in latin1.",
        "SIZE_PKG=1234",
      ];
      return `${lines.join("\n")}\n\n`;
    })
    .join("");
}

export function writeSummaries(dir: string, text: string, options: SummaryOptions = {}): void {
  const bytes = Buffer.from(text, "latin1");
  for (const kind of options.compressions ?? ["gz"]) {
    const path = join(dir, `pkg_summary.${kind}`);
    if (kind === "gz") writeFileSync(path, gzipSync(bytes));
    else writeFileSync(path, execFileSync(kind === "bz2" ? "bzip2" : "xz", ["-c"], { input: bytes }));
  }
}

export function readSummary(dir: string, kind: "gz" | "bz2" | "xz" = "gz"): string {
  const path = join(dir, `pkg_summary.${kind}`);
  const command = kind === "gz" ? "gzip" : kind === "bz2" ? "bzip2" : "xz";
  return execFileSync(command, ["-dc", path]).toString("latin1");
}

/** The last ar member of a signed package: the inner package, byte for byte. */
export function innerOf(file: string): Buffer {
  const bytes = readFileSync(file);
  let offset = 8;
  let last = Buffer.alloc(0);
  while (offset < bytes.length) {
    const header = bytes.subarray(offset, offset + 60).toString("latin1");
    let size = Number(header.slice(48, 58).trim());
    let start = offset + 60;
    const name = header.slice(0, 16).trim();
    if (name.startsWith("#1/")) {
      const length = Number(name.slice(3));
      start += length;
      size -= length;
    }
    last = bytes.subarray(start, start + size);
    offset = start + size + ((start + size - offset - 60) % 2);
  }
  return Buffer.from(last);
}

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
  const signerCert = `${file}.signer.pem`;
  writeFileSync(signerCert, `-----BEGIN CERTIFICATE-----\n${Buffer.from(signer.der).toString("base64").replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`);
  try {
    const oracle = await opensslAnswer({ file, anchor: anchorPath, signerCert, signerSubject: signer.subject, time });
    expect(oracle, `${file}: ${oracle.smimeError}`).toMatchObject({ trusted: true });
  } finally {
    await rm(signerCert, { force: true });
  }
}
