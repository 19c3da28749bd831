import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chooseTestPackage, compareVersions, parsePkgSummary, type PkgSummaryEntry } from "../../src/package/pkg-summary.js";

const SUMMARY = `PKGNAME=digest-20190127
COMMENT=Message digest wrapper utility
SIZE_PKG=120000
FILE_SIZE=52000
DESCRIPTION=The digest utility calculates message digests.
DESCRIPTION=

PKGNAME=digest-20220214
COMMENT=Message digest wrapper utility
SIZE_PKG=125000
FILE_SIZE=53000

PKGNAME=pkgin-23.8.1nb1
FILE_NAME=pkgin-23.8.1nb1.tgz
FILE_SIZE=300000

PKGNAME=tiny-1.0
SIZE_PKG=10
`;

const entry = (pkgname: string, sizes: { fileSize?: number; sizePkg?: number } = {}): PkgSummaryEntry => {
  const at = pkgname.lastIndexOf("-");
  return { pkgname, base: pkgname.slice(0, at), version: pkgname.slice(at + 1), fileName: `${pkgname}.tgz`, ...sizes };
};

describe("parsePkgSummary", () => {
  it("reads blocks of VAR=VALUE lines separated by blank lines", () => {
    const entries = parsePkgSummary(SUMMARY, "pkg_summary");
    expect(entries.map((e) => e.pkgname)).toEqual(["digest-20190127", "digest-20220214", "pkgin-23.8.1nb1", "tiny-1.0"]);
    expect(entries[0]).toEqual({ pkgname: "digest-20190127", base: "digest", version: "20190127", fileName: "digest-20190127.tgz", fileSize: 52000, sizePkg: 120000 });
    expect(entries[2]).toMatchObject({ base: "pkgin", version: "23.8.1nb1", fileName: "pkgin-23.8.1nb1.tgz" });
    expect(entries[3]?.fileSize).toBeUndefined();
  });

  it("accepts CRLF line ends and several blank lines", () => {
    expect(parsePkgSummary("PKGNAME=a-1\r\n\r\n\r\nPKGNAME=b-2\r\n", "s").map((e) => e.pkgname)).toEqual(["a-1", "b-2"]);
  });

  it("rejects a line that is not VAR=VALUE, naming the line", () => {
    const error = (() => {
      try {
        return parsePkgSummary("PKGNAME=a-1\ngarbage\n", "s");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toThrowWithCode("REPO_SUMMARY_MALFORMED");
    expect((error as { detail: { line: number } }).detail.line).toBe(2);
  });

  it("rejects a block without a PKGNAME or with one lacking a version", () => {
    expect(() => parsePkgSummary("COMMENT=x\n", "s")).toThrowWithCode("REPO_SUMMARY_MALFORMED");
    expect(() => parsePkgSummary("PKGNAME=noversion\n", "s")).toThrowWithCode("REPO_SUMMARY_MALFORMED");
  });

  it("leaves out packages whose file name would leave the repository directory", () => {
    const text = ["../../etc/passwd", "/abs.tgz", "sub/x.tgz", "http:x.tgz", "x.tgz?y", "..", "ok-1.0.tgz"]
      .map((name, i) => `PKGNAME=p${i}-1\nFILE_NAME=${name}\n`)
      .join("\n");
    expect(parsePkgSummary(text, "s").map((e) => e.fileName)).toEqual(["ok-1.0.tgz"]);
  });
});

describe("compareVersions", () => {
  it.each([
    ["1.10", "1.9"],
    ["20220214", "20190127"],
    ["1.0nb2", "1.0nb1"],
    ["1.0nb1", "1.0"],
    ["1.0", "1.0rc1"],
    ["1.0rc1", "1.0beta2"],
    ["1.0beta1", "1.0alpha3"],
    ["1.0pl1", "1.0"],
    ["1.0a", "1.0"],
    ["2.0", "1.99.99"],
  ])("orders %s above %s", (higher, lower) => {
    expect(compareVersions(higher, lower)).toBe(1);
    expect(compareVersions(lower, higher)).toBe(-1);
  });

  it("treats 1.0a as 1.0.1 and 1.0 as 1.0.0, as pkg_install's dewey does", () => {
    expect(compareVersions("1.0a", "1.0.1")).toBe(0);
    expect(compareVersions("1.0", "1.0.0")).toBe(0);
  });

  it("is antisymmetric", () => {
    const version = fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,3}){0,3}(alpha|beta|rc|pl|[a-c])?[0-9]?(nb[0-9])?$/);
    fc.assert(fc.property(version, version, (a, b) => compareVersions(a, b) === -compareVersions(b, a)));
  });
});

describe("chooseTestPackage", () => {
  const entries = parsePkgSummary(SUMMARY, "pkg_summary");

  it("takes a requested full PKGNAME", () => {
    expect(chooseTestPackage(entries, "digest-20190127").pkgname).toBe("digest-20190127");
  });

  it("takes a requested base name at its highest version", () => {
    expect(chooseTestPackage(entries, "digest").pkgname).toBe("digest-20220214");
    expect(chooseTestPackage(entries, "pkgin").pkgname).toBe("pkgin-23.8.1nb1");
  });

  it("reports a requested package the repository lacks", () => {
    expect(() => chooseTestPackage(entries, "mozilla-firefox")).toThrowWithCode("REPO_PACKAGE_NOT_FOUND");
    expect(() => chooseTestPackage(entries, "digest-1")).toThrowWithCode("REPO_PACKAGE_NOT_FOUND");
  });

  it("prefers digest when nothing is requested", () => {
    expect(chooseTestPackage(entries).pkgname).toBe("digest-20220214");
  });

  it("otherwise takes the smallest package by FILE_SIZE, else SIZE_PKG", () => {
    const others = [entry("big-1", { fileSize: 900 }), entry("small-1", { fileSize: 100, sizePkg: 5000 }), entry("unknown-1"), entry("installed-1", { sizePkg: 50 })];
    expect(chooseTestPackage(others).pkgname).toBe("installed-1");
    expect(chooseTestPackage(others.slice(0, 3)).pkgname).toBe("small-1");
    expect(chooseTestPackage([entry("b-1"), entry("a-1")]).pkgname).toBe("a-1");
  });

  it("reports an empty summary", () => {
    expect(() => chooseTestPackage([])).toThrowWithCode("REPO_SUMMARY_EMPTY");
  });
});
