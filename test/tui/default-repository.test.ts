import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cdnUrl, defaultFor, defaultRepository, parseRelease } from "../../src/bootstrap/default-repository.js";
import { TargetRoot } from "../../src/config/target-root.js";

const work = mkdtempSync(path.join(tmpdir(), "pkgtrust-default-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the default repository URL", () => {
  it.each([
    ["10.1", "amd64", "amd64", "10.0"],
    ["10.0", "x86_64", "amd64", "10.0"],
    ["9.4", "i386", "i386", "9.0"],
    ["10.99.12", "aarch64", "aarch64", "10.0"],
    ["10.1", "evbarm64", "aarch64", "10.0"],
    ["10.1", "macppc", "powerpc", "10.0"],
    ["10.1", "sparc64", "sparc64", "10.0"],
  ])("NetBSD %s on %s: NetBSD/%s/%s/All", (release, machine, arch, version) => {
    const found = defaultFor({ type: "NetBSD", release, machine }, "this system");
    expect(found).toMatchObject({ arch, version, url: `https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/${arch}/${version}/All` });
    expect(found.note).toBe(`Default for this system, NetBSD ${release}/${machine}.`);
  });

  it("settles evbarm by the running Node's architecture", () => {
    expect(defaultFor({ type: "NetBSD", release: "10.1", machine: "evbarm", nodeArch: "arm64" }, "this system").url).toBe(cdnUrl("aarch64", "10.0"));
    expect(defaultFor({ type: "NetBSD", release: "10.1", machine: "evbarm", nodeArch: "arm" }, "this system").url).toBe(cdnUrl("earmv7hf", "10.0"));
  });

  it.each([
    [{ type: "Linux", release: "6.8.0-49-generic", machine: "x86_64" }, "Linux 6.8.0-49-generic/x86_64"],
    [{ type: "NetBSD", release: "10.1", machine: "evbarm" }, "NetBSD 10.1/evbarm"],
    [{ type: "NetBSD", release: "", machine: "amd64" }, "NetBSD /amd64"],
  ])("falls back to amd64 10.0 and says why for %j", (info, seen) => {
    const found = defaultFor(info, "this system");
    expect(found.url).toBe(cdnUrl("amd64", "10.0"));
    expect(found.note).toContain(`this system reads as ${seen}`);
  });

  it("reads a target's /etc/release under --root", async () => {
    const root = path.join(work, "target");
    mkdirSync(path.join(root, "etc"), { recursive: true });
    writeFileSync(path.join(root, "etc/release"), "NetBSD 9.3/i386\n\nThis system was built ...\n");
    const found = await defaultRepository(new TargetRoot(root), { type: "Linux", release: "6.8", machine: "x86_64" });
    expect(found).toMatchObject({ url: cdnUrl("i386", "9.0"), note: "Default for the target, NetBSD 9.3/i386." });
  });

  it("a target without /etc/release gets the fallback, not the running system's values", async () => {
    const root = path.join(work, "bare");
    mkdirSync(root, { recursive: true });
    const found = await defaultRepository(new TargetRoot(root), { type: "NetBSD", release: "9.3", machine: "i386" });
    expect(found.url).toBe(cdnUrl("amd64", "10.0"));
    expect(found.note).toContain("no NetBSD /etc/release");
  });

  it("uses the running system for root /", async () => {
    const found = await defaultRepository(new TargetRoot("/"), { type: "NetBSD", release: "10.1", machine: "amd64" });
    expect(found.url).toBe(cdnUrl("amd64", "10.0"));
  });

  it("parses only the NetBSD release line", () => {
    expect(parseRelease("NetBSD 10.1/amd64\n")).toEqual({ type: "NetBSD", release: "10.1", machine: "amd64" });
    expect(parseRelease("NetBSD 10.0_STABLE/evbarm\n")).toEqual({ type: "NetBSD", release: "10.0_STABLE", machine: "evbarm" });
    expect(parseRelease("Ubuntu 24.04\n")).toBeUndefined();
    expect(parseRelease("")).toBeUndefined();
  });
});
