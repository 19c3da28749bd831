/**
 * The repository the wizard proposes: the NetBSD CDN's binary packages for the system being
 * configured, https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/$arch/$version/All.
 *
 * - $version: NetBSD releases keep their ABI, so the CDN keeps one directory per major
 *   release ("10.0" serves 10.0, 10.1, ...; pub/pkgsrc/packages/README.md): MAJOR.0.
 * - $arch: the CDN's directory names are NetBSD's MACHINE_ARCH, except x86_64 (amd64); a
 *   MACHINE that covers several (evbarm) is settled by the running Node's process.arch.
 * - The running system is read from os.type()/os.release()/os.machine(); a target mounted at
 *   --root from the first line of its /etc/release ("NetBSD 10.1/amd64").
 * Anything else (another OS, an unknown port, no /etc/release) falls back to amd64 10.0 and
 * says so in `note`: the user sees the URL and can change it.
 */
import os from "node:os";
import type { TargetRoot } from "../config/target-root.js";

export interface DefaultRepository {
  readonly url: string;
  readonly arch: string;
  readonly version: string;
  /** Where $arch and $version came from, one sentence for the user. */
  readonly note: string;
}

export interface SystemInfo {
  /** os.type(): "NetBSD", "Linux", ... */
  readonly type: string;
  /** os.release(): "10.1", "10.99.12", ... */
  readonly release: string;
  /** os.machine() (uname -m) or MACHINE from /etc/release: "amd64", "x86_64", "evbarm", ... */
  readonly machine: string;
  /**
   * process.arch of the running Node, for ports whose MACHINE covers several CPU
   * architectures (evbarm is aarch64 or earmv7hf): only known for the running system.
   */
  readonly nodeArch?: string;
}

const FALLBACK = { arch: "amd64", version: "10.0" } as const;

/** uname -m / MACHINE / MACHINE_ARCH names to the CDN's directory names; ports whose MACHINE names one MACHINE_ARCH. */
const ARCH: Readonly<Record<string, string>> = {
  amd64: "amd64",
  x86_64: "amd64",
  i386: "i386",
  i486: "i386",
  i586: "i386",
  i686: "i386",
  aarch64: "aarch64",
  arm64: "aarch64",
  evbarm64: "aarch64",
  sparc64: "sparc64",
  sparc: "sparc",
  alpha: "alpha",
  vax: "vax",
  macppc: "powerpc",
  powerpc: "powerpc",
  hppa: "hppa",
  mac68k: "m68k",
  amiga: "m68k",
  atari: "m68k",
  sun3: "m68k",
  m68k: "m68k",
  pmax: "mipsel",
  mipsel: "mipsel",
  earmv7hf: "earmv7hf",
  earmv6hf: "earmv6hf",
  riscv64: "riscv64",
};

/** process.arch to the CDN's directory names. */
const NODE_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "i386", arm64: "aarch64", arm: "earmv7hf", ppc: "powerpc", riscv64: "riscv64" };

export function cdnUrl(arch: string, version: string): string {
  return `https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/${arch}/${version}/All`;
}

/** The default for a system described by `info`; `where` names it in the note ("this system", "the target"). */
export function defaultFor(info: SystemInfo, where: string): DefaultRepository {
  const major = /^(\d+)\./.exec(info.release)?.[1];
  const arch = ARCH[info.machine.toLowerCase()] ?? (info.nodeArch === undefined ? undefined : NODE_ARCH[info.nodeArch]);
  if (info.type !== "NetBSD" || major === undefined || arch === undefined) {
    const seen = info.type === "" ? "unknown (no NetBSD /etc/release)" : `${info.type} ${info.release}/${info.machine}`;
    return { url: cdnUrl(FALLBACK.arch, FALLBACK.version), ...FALLBACK, note: `Default for NetBSD ${FALLBACK.version}/${FALLBACK.arch}: ${where} reads as ${seen}; change the URL if it does not match.` };
  }
  const version = `${major}.0`;
  return { url: cdnUrl(arch, version), arch, version, note: `Default for ${where}, NetBSD ${info.release}/${info.machine}.` };
}

/** "NetBSD 10.1/amd64" (the first line of /etc/release) as SystemInfo; undefined when it is not that. */
export function parseRelease(text: string): SystemInfo | undefined {
  const match = /^NetBSD\s+(\d+\.\d+[^\s/]*)\/(\S+)/.exec(text.trimStart());
  return match ? { type: "NetBSD", release: match[1] as string, machine: match[2] as string } : undefined;
}

/** The default repository of the system being configured: the running one, or the target at --root. */
export async function defaultRepository(root: TargetRoot, running: SystemInfo = { type: os.type(), release: os.release(), machine: os.machine(), nodeArch: process.arch }): Promise<DefaultRepository> {
  if (root.dir === "/") return defaultFor(running, "this system");
  const text = (await root.readIfExists("/etc/release").catch(() => undefined))?.toString("utf8") ?? "";
  return defaultFor(parseRelease(text) ?? { type: "", release: "", machine: "" }, "the target");
}
