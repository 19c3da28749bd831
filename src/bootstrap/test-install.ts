import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import type { TargetRoot } from "../config/target-root.js";
import type { FetchCall, Fetcher } from "../net/fetcher.js";
import type { PackageCache } from "../package/package-cache.js";
import { verifyPackage } from "../package/verify-package.js";
import { PKG_INSTALL_POLICY } from "../pki/policy.js";
import { writtenTrust } from "../trust/pkg-install-trust.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import { PkgtrustError } from "../errors.js";
import { BootstrapError } from "./errors.js";
import type { TestInstallOutcome } from "./events.js";
import { chooseTestPackage, packageUrl, readPkgSummary } from "./repository.js";

export interface TestInstallRequest {
  readonly root: TargetRoot;
  readonly repository: URL;
  readonly configPath: string;
  readonly requested?: string;
  readonly time: Date;
  readonly fetcher: Fetcher;
  /** The run's signal and event sink; the signal also stops pkg_add. */
  readonly call: FetchCall;
  readonly limits?: Pick<Limits, "summary" | "testPackageBytes" | "pkgAddMs">;
  /** pkg_add to run for real; without it pkgtrust's own verdict is the whole check. */
  readonly pkgAdd?: PkgAdd;
  /** Why no pkg_add runs, when none is given (shown with the verdict). */
  readonly noPkgAddReason?: string;
  /** The run's memos: the certificates of the trust files and of the signature were mostly parsed before. */
  readonly cache?: PackageCache;
  /** Frees the walk's spent zlib buffers as it goes (VerifyOptions.collect). */
  readonly collect?: () => void;
}

/**
 * The pkg_add of a real test-install: the running system's, or (sysinst's case: the base
 * sets extracted under --root, run as root) the target's own, run under `chroot` so that
 * it reads the target's configuration and trust files exactly as it will after the install.
 */
export interface PkgAdd {
  /** A host path, or a target path when `chroot` is set. */
  readonly program: string;
  /** The target root's host directory to chroot into. */
  readonly chroot?: string;
}

/** The words every face uses when no pkg_add ran (plain report, JSON's why, the wizard). */
export const NO_PKG_ADD = "checked by pkgtrust's pkg_install-exact verifier; pkg_add was not run";

/** Passes the download through while saving it for pkg_add; the file is complete once the verifier lets go. */
async function* teeToFile(body: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<Uint8Array> {
  const out = createWriteStream(file);
  try {
    for await (const chunk of body) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      yield chunk;
    }
  } finally {
    // The verifier may stop at the archive's end without asking for more: flush either way.
    out.end();
    await finished(out);
  }
}

/** A scratch directory the pkg_add can see: inside the target root (its /tmp when it has one) under chroot. */
async function makeScratch(pkgAdd: PkgAdd | undefined): Promise<{ host: string; seen: (hostPath: string) => string }> {
  const chroot = pkgAdd?.chroot;
  if (chroot === undefined) return { host: await mkdtemp(path.join(tmpdir(), "pkgtrust-test-install-")), seen: (hostPath) => hostPath };
  const tmp = path.join(chroot, "tmp");
  const parent = (await stat(tmp).catch(() => undefined))?.isDirectory() ? tmp : chroot;
  const host = await mkdtemp(path.join(parent, ".pkgtrust-test-install-"));
  return { host, seen: (hostPath) => `/${path.relative(chroot, hostPath).split(path.sep).join("/")}` };
}

/** The command line, as the user would type it to see pkg_add's complaint. */
function pkgAddCommand(pkgAdd: PkgAdd, configPath: string, packageFile: string, scratch: { host: string; seen: (hostPath: string) => string }): string[] {
  // A throw-away package database and prefix: the real pkg_add checks the signature with
  // the configuration just written, and nothing of the package stays on the system.
  const args = ["-C", configPath, "-K", scratch.seen(path.join(scratch.host, "pkgdb")), "-P", scratch.seen(path.join(scratch.host, "prefix")), "-I", scratch.seen(packageFile)];
  return pkgAdd.chroot === undefined ? [pkgAdd.program, ...args] : ["chroot", pkgAdd.chroot, pkgAdd.program, ...args];
}

async function runPkgAdd(command: readonly string[], run: { timeout: number; signal?: AbortSignal }): Promise<void> {
  const [program = "", ...args] = command;
  try {
    await promisify(execFile)(program, args, { timeout: run.timeout, ...(run.signal ? { signal: run.signal } : {}) });
  } catch (error) {
    // A signal or a deadline ends pkg_add too; the run's reason is the failure, not pkg_add's.
    if (run.signal?.aborted === true && run.signal.reason instanceof PkgtrustError) throw run.signal.reason;
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim().split("\n").at(-1) ?? "";
    throw new BootstrapError("BOOT_PKG_ADD_FAILED", `${command.join(" ")} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/**
 * Downloads one signed package and verifies it under exactly the configuration just
 * written, while downloading; with a pkg_add at hand it then installs it for real into a
 * scratch database and prefix.
 */
export async function testInstall(request: TestInstallRequest): Promise<TestInstallOutcome> {
  const limits = request.limits ?? DEFAULT_LIMITS;
  const entries = await readPkgSummary(request.repository, request.fetcher, request.call, limits.summary);
  const entry = chooseTestPackage(entries, request.requested);
  const url = packageUrl(request.repository, entry);
  const written = await writtenTrust(request.root, request.configPath, request.cache);
  if (!written.ok) throw new BootstrapError("BOOT_TEST_INSTALL_FAILED", written.reason);
  const { trust } = written;
  const scratch = await makeScratch(request.pkgAdd);
  try {
    const { body } = await request.fetcher.stream(url, limits.testPackageBytes, request.call);
    const packageFile = path.join(scratch.host, entry.fileName);
    const verdict = await verifyPackage(request.pkgAdd ? teeToFile(body, packageFile) : body, trust, { time: request.time, policy: PKG_INSTALL_POLICY, ...(request.cache ? { cache: request.cache } : {}), collect: request.collect });
    if (!verdict.trusted) {
      throw new BootstrapError("BOOT_TEST_INSTALL_FAILED", `${entry.pkgname} does not verify under the new configuration: ${verdict.reason}`, {
        detail: { package: entry.pkgname, code: verdict.code ?? null },
      });
    }
    const base = { package: entry.pkgname, url: url.href, trusted: true, signer: verdict.signer?.subject ?? "" };
    if (!request.pkgAdd) {
      return { ...base, check: "native", why: `${NO_PKG_ADD} (${request.noPkgAddReason ?? "no pkg_add on this system"})` };
    }
    const configPath = request.pkgAdd.chroot === undefined ? request.root.hostPath(request.configPath) : request.configPath;
    const command = pkgAddCommand(request.pkgAdd, configPath, packageFile, scratch);
    await runPkgAdd(command, { timeout: limits.pkgAddMs, ...(request.call.signal ? { signal: request.call.signal } : {}) });
    return { ...base, check: "pkg_add", why: `${command.join(" ")} installed it into a throw-away package database and prefix, since removed` };
  } finally {
    await rm(scratch.host, { recursive: true, force: true });
  }
}
