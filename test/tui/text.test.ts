import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fingerprintLines, labelled, pathLines, shorten, wrap } from "../../tui/text.js";

describe("text layout", () => {
  it("wraps words, and long paths after a slash", () => {
    expect(wrap("one two three", 7)).toEqual(["one two", "three"]);
    expect(wrap("/etc/pkgtrust/repositories/abc/anchors.pem", 30)).toEqual(["/etc/pkgtrust/repositories/", "abc/anchors.pem"]);
    expect(wrap("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    expect(wrap("", 10)).toEqual([""]);
  });

  it("indents continuation lines under a label", () => {
    expect(labelled("Next: ", "try another mirror please", 16)).toEqual(["Next: try", "      another", "      mirror", "      please"]);
  });

  it("shortens from the middle", () => {
    expect(shorten("http://example.org/a/b/c/d", 15)).toBe("http:/.../b/c/d");
    expect(shorten("short", 15)).toBe("short");
  });

  it("splits a SHA-256 fingerprint evenly, colons ending continued lines", () => {
    const hex = "ab".repeat(32);
    expect(fingerprintLines(hex, 65)).toEqual([`${"AB:".repeat(16)}`, `${"AB:".repeat(15)}AB`]);
    expect(fingerprintLines(hex, 200)).toEqual([`${"AB:".repeat(31)}AB`]);
    for (const line of fingerprintLines(hex, 20)) expect(line.length).toBeLessThanOrEqual(20);
    expect(fingerprintLines("", 65)).toEqual(["(none)"]);
  });
});

describe("pathLines", () => {
  it("breaks only after a slash, and cuts only a name longer than a line", () => {
    expect(pathLines("  created   ", "/etc/pkg_install.conf", 40)).toEqual(["  created   /etc/pkg_install.conf"]);
    expect(pathLines("  created   ", "/etc/pkgtrust/repositories/a-very-long-repository-id/anchors.pem", 40)).toEqual([
      "  created   /etc/pkgtrust/repositories/",
      "    a-very-long-repository-id/",
      "    anchors.pem",
    ]);
    expect(pathLines("  x ", `/${"y".repeat(30)}`, 20)).toEqual(["  x /", `    ${"y".repeat(16)}`, `    ${"y".repeat(14)}`]);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "/", "-"), maxLength: 200 }), fc.integer({ min: 12, max: 100 }), (path, width) => {
        const lines = pathLines("  lbl ", path, width);
        for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
        expect(lines.map((line, i) => line.slice(i === 0 ? 6 : 4)).join("")).toBe(path);
      }),
    );
  });
});
