/**
 * The independent answer for a package case: `openssl smime -verify` as pkg_install calls
 * PKCS7_verify (OpenSSL 3.0 here, like NetBSD 10), plus pkg_install's signer rules read
 * with `openssl x509 -ext` and `openssl pkcs7 -print_certs`, plus the block hashes.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArReader } from "../../src/package/ar-reader.js";
import { ByteReader } from "../../src/package/byte-reader.js";

export interface OracleAnswer {
  /** What pkg_install on NetBSD 10 decides (ignoring @name, which it never checks). */
  readonly trusted: boolean;
  readonly smimeVerified: boolean;
  readonly smimeError: string;
  readonly signerRulesOk: boolean;
  readonly signerEmbedded: boolean;
  readonly contentOk: boolean;
}

async function members(file: string): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const reader = new ByteReader((async function* () {
    yield readFileSync(file);
  })());
  const ar = await ArReader.open(reader);
  for (let m = await ar.next(); m; m = await ar.next()) found.set(m.name, await ar.readBody(Number.MAX_SAFE_INTEGER));
  return found;
}

function openssl(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** pkg_install's rules from `openssl x509 -ext`: not a CA (X509_check_ca), EKU exactly codeSigning + emailProtection. */
export function signerRulesOk(certPath: string): boolean {
  const text = openssl(["x509", "-noout", "-ext", "extendedKeyUsage,basicConstraints,keyUsage", "-in", certPath]).stdout;
  const section = (name: string) => new RegExp(`${name}:[^\\n]*\\n\\s+([^\\n]*)`).exec(text)?.[1]?.trim();
  const bc = section("X509v3 Basic Constraints");
  const ku = section("X509v3 Key Usage");
  const eku = section("X509v3 Extended Key Usage");
  const isCa = bc !== undefined ? /CA:TRUE/.test(bc) : ku !== undefined && /Certificate Sign/.test(ku);
  const ekus = new Set((eku ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  return !isCa && ekus.size === 2 && ekus.has("Code Signing") && ekus.has("E-mail Protection");
}

export async function opensslAnswer(options: { file: string; anchor: string; chain?: string; signerCert: string; signerSubject: string; time: Date }): Promise<OracleAnswer> {
  const parts = await members(options.file);
  const hash = parts.get("+PKG_HASH");
  const signature = parts.get("+PKG_SIGNATURE");
  if (!hash || !signature) throw new Error("not an X.509-signed package");
  const dir = mkdtempSync(join(tmpdir(), "pkgtrust-oracle-"));
  try {
    writeFileSync(join(dir, "hash"), hash);
    writeFileSync(join(dir, "sig"), signature);
    const args = ["smime", "-verify", "-binary", "-inform", "PEM", "-in", join(dir, "sig"), "-content", join(dir, "hash"), "-CAfile", options.anchor, "-out", "/dev/null", "-attime", String(Math.floor(options.time.getTime() / 1000))];
    if (options.chain) args.push("-certfile", options.chain);
    const verify = openssl(args);
    const smimeVerified = verify.status === 0;
    const printed = openssl(["pkcs7", "-print_certs", "-noout", "-in", join(dir, "sig")]).stdout;
    const signerEmbedded = printed.split("\n").some((line) => line.trim() === `subject=${options.signerSubject.replace(/^CN=/, "CN = ")}`);
    const rules = signerRulesOk(options.signerCert);
    // parse_hash_file reads a C string: the text ends at the first NUL.
    const nul = Buffer.from(hash).indexOf(0);
    const text = Buffer.from(hash).subarray(0, nul < 0 ? hash.length : nul).toString("latin1");
    const blockSize = Number(/block size: (\d+)/.exec(text)?.[1]);
    const size = Number(/file size: (\d+)/.exec(text)?.[1]);
    const blocks = text.split("\n").filter((l) => /^[0-9a-f]{128}$/.test(l));
    const inner = [...parts.entries()].find(([name]) => !name.startsWith("+"))?.[1] ?? new Uint8Array();
    // pkg_install's parse_hash_file, as one regular expression.
    const formatOk = /^pkgsrc signature\n\nversion: 1\npkgname: [\x21-\x7e]*\nalgorithm: SHA512\nblock size: \d+\nfile size: \d+\n\n([0-9a-f]{128}\n)*end pkgsrc signature\n$/.test(text);
    const contentOk = formatOk && inner.length === size && blocks.every((b, i) => createHash("sha512").update(inner.subarray(i * blockSize, (i + 1) * blockSize)).digest("hex") === b);
    return { trusted: smimeVerified && rules && signerEmbedded && contentOk, smimeVerified, smimeError: verify.stderr, signerRulesOk: rules, signerEmbedded, contentOk };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
