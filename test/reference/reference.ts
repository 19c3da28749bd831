/**
 * The C reference (pkg-verify.c): pkg_install's own calls against OpenSSL 3.0 and
 * libarchive, compiled once per source version into the temp directory and shared by the
 * test workers. Without gcc or the libraries the tests that need it are skipped with one
 * notice, except under CI=true, where that is a failure (CI must never skip silently).
 *
 *   const verdict = referenceVerify({ file, anchor, chain, time });   // or { file, conf, time }
 *   verdict.trusted, verdict.class ("signature", "signer-eku", "block", ...)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordSkipped } from "../fixtures/requirements.js";

/** Beside this file, or (run from build/) in the source tree. */
const SOURCE = [new URL("./pkg-verify.c", import.meta.url), new URL("../../../test/reference/pkg-verify.c", import.meta.url)].map((url) => fileURLToPath(url)).find((path) => existsSync(path)) ?? "pkg-verify.c";
const INSTALL_HINT = "apt-get install gcc libssl-dev libarchive-dev";

export type ReferenceClass = "unsigned" | "gpg" | "hash-format" | "signature" | "signers" | "signer-ca" | "signer-eku" | "size" | "inner" | "block" | "not-enforced";

export interface ReferenceVerdict {
  readonly trusted: boolean;
  /** The first refusal in pkg_install's order. */
  readonly class?: ReferenceClass;
  /** What easy_pkcs7_verify said, when it ran before the refusal ("ok" when it accepted). */
  readonly signature?: ReferenceClass | "ok" | "unchecked";
  readonly reason: string;
  /** Blocks of the inner package that libarchive asked for, and how many there are. */
  readonly blocksRead: number;
  readonly blocks: number;
  readonly line: string;
}

function compile(): string | undefined {
  const source = readFileSync(SOURCE);
  const dir = join(tmpdir(), `pkgtrust-reference-${createHash("sha256").update(source).digest("hex").slice(0, 16)}`);
  const binary = join(dir, "pkg-verify");
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  const compiler = process.env.CC || "gcc";
  const result = spawnSync(compiler, ["-O1", "-Wall", "-o", partial, SOURCE, "-lcrypto", "-larchive"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const why = result.error ? String(result.error.message) : result.stderr.trim().split("\n").slice(0, 3).join(" ");
    if (process.env.CI === "true") throw new Error(`the C reference test/reference/pkg-verify.c does not compile (${why}); CI needs: ${INSTALL_HINT}`);
    recordSkipped({ tools: ["cc"], packages: ["libssl-dev", "libarchive-dev"], check: "the C reference of pkg_install's calls (test/reference/pkg-verify.c)" });
    // One notice per test run, however many workers load this module.
    try {
      writeFileSync(join(dir, `notice-${process.ppid}`), "", { flag: "wx" });
      console.warn(`NOTICE: skipping the tests against the C reference of pkg_install: it does not compile (${why}). Install: ${INSTALL_HINT}`);
    } catch {
      // another worker has said it
    }
    return undefined;
  }
  renameSync(partial, binary); // atomic: parallel workers each compile, one file wins
  return binary;
}

/** The compiled reference, or undefined (tests skip) when this machine cannot build it. */
export const REFERENCE: string | undefined = compile();

export interface ReferenceRequest {
  readonly file: string;
  readonly time: Date;
  readonly anchor?: string;
  readonly chain?: string;
  /** A pkg_install.conf, read as parse_pkg_install_conf reads it, instead of anchor and chain. */
  readonly conf?: string;
  /** The target root whose paths the configuration names (setup --root). */
  readonly root?: string;
}

export function referenceVerify(request: ReferenceRequest): ReferenceVerdict {
  if (!REFERENCE) throw new Error("the C reference is not available");
  const args = ["--attime", String(Math.floor(request.time.getTime() / 1000))];
  if (request.conf) args.push("--conf", request.conf, ...(request.root ? ["--root", request.root] : []));
  else {
    if (!request.anchor) throw new Error("referenceVerify needs anchor or conf");
    args.push("--anchor", request.anchor, ...(request.chain ? ["--chain", request.chain] : []));
  }
  let line: string;
  try {
    line = execFileSync(REFERENCE, [...args, request.file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    if (failed.status !== 1) throw new Error(`pkg-verify failed: ${failed.stderr ?? String(error)}`);
    line = (failed.stdout ?? "").trim();
  }
  const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1];
  const [read, total] = (field("blocks") ?? "0/0").split("/").map(Number);
  const trusted = field("verdict") === "trusted";
  return {
    trusted,
    ...(trusted ? {} : { class: field("class") as ReferenceClass, signature: field("signature") as ReferenceVerdict["signature"] }),
    reason: /reason=(.*)$/.exec(line)?.[1] ?? "",
    blocksRead: read ?? 0,
    blocks: total ?? 0,
    line,
  };
}

/**
 * The reference classes a pkgtrust code stands for: a refusal must be for the same kind of
 * reason. "pkgtrust-only" marks the one check pkg_install lacks.
 */
export function referenceClassesOf(code: string): readonly ReferenceClass[] | "pkgtrust-only" {
  if (code === "PKG_NAME_MISMATCH") return "pkgtrust-only"; // pkg_install never compares @name (the XXX in pkg_signature.c)
  if (code === "PKG_INNER_TOO_LARGE") return "pkgtrust-only"; // libarchive unpacks a decompression bomb for as long as it takes
  if (["PKG_UNSIGNED", "PKG_NOT_AR", "PKG_AR_FORMAT", "PKG_MEMBER_TOO_LARGE"].includes(code)) return ["unsigned"];
  if (code === "PKG_GPG_SIGNED") return ["gpg"];
  if (code === "PKG_HASH_FORMAT") return ["hash-format"];
  if (code === "PKG_SIGNER_NOT_EMBEDDED") return ["signers"];
  if (code === "PKG_SIZE_MISMATCH") return ["size"];
  if (code === "PKG_BLOCK_MISMATCH" || code === "PKG_LAST_BLOCK_BUG") return ["block"];
  if (code === "PKG_TRUNCATED") return ["block", "size", "inner"];
  if (code.startsWith("PKG_INNER") || code === "PKG_CONTENTS_TOO_LARGE") return ["inner", "block"];
  if (code === "CERT_NOT_PACKAGE_SIGNER") return ["signer-ca", "signer-eku"];
  return ["signature"]; // PKCS7_verify: the signature itself and every CERT_* path rule
}
