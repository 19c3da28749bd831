import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MARKER, mergeSettings, OWNED_VARIABLES, readSettings, splitLines, type OwnedSettings } from "../../src/config/pkg-install-conf.js";

const settings: OwnedSettings = {
  VERIFIED_INSTALLATION: "always",
  CERTIFICATE_ANCHOR_PKGS: "/etc/pkgtrust/repositories/r1/anchors.pem",
  CERTIFICATE_CHAIN: "/etc/pkgtrust/repositories/r1/chain.pem",
  PKG_PATH: "https://cdn.example.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All",
};

describe("pkg_install.conf merging", () => {
  it("creates a file holding exactly the owned settings", () => {
    const text = mergeSettings(undefined, settings);
    expect(text.startsWith(`${MARKER}\n`)).toBe(true);
    expect(Object.fromEntries(readSettings(text))).toEqual(settings);
  });

  it("keeps every unrelated line byte for byte, in order", () => {
    const existing = "# local settings\r\nCHECK_VULNERABILITIES=always\n\n  PKG_PATH=indented is not an assignment\nACCEPTABLE_LICENSES=gnu-gpl-v2";
    const merged = mergeSettings(existing, settings);
    const unrelated = splitLines(existing);
    const kept = splitLines(merged).filter((line) => unrelated.includes(line) || unrelated.includes(line.replace(/\n$/, "")));
    expect(kept.join("")).toBe(existing + "\n");
    expect(merged.startsWith(existing)).toBe(true);
  });

  it("replaces owned lines in place and drops repeated ones that pkg_install would join", () => {
    const existing = "A=1\nVERIFIED_INSTALLATION=never\nB=2\nPKG_PATH=/old\nPKG_PATH=/older\nC=3\n";
    const merged = mergeSettings(existing, settings);
    const lines = splitLines(merged);
    expect(lines[0]).toBe("A=1\n");
    expect(lines[1]).toBe(`${MARKER}\n`);
    expect(lines.slice(-2)).toEqual(["B=2\n", "C=3\n"]);
    expect(readSettings(merged).get("PKG_PATH")).toBe(settings.PKG_PATH);
  });

  it("reads repeated assignments as pkg_install does: joined with newlines", () => {
    expect(readSettings("X=a\nX=b\n#X=c\nX =d\n").get("X")).toBe("a\nb");
  });

  it("is idempotent and never loses a foreign line (property)", () => {
    const line = fc.oneof(
      fc.constantFrom(...OWNED_VARIABLES).map((name) => `${name}=x`),
      fc.string({ unit: fc.constantFrom("A", "B", "=", "#", " ", "\r", "_", "é") }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, trailingNewline) => {
        const existing = lines.join("\n") + (trailingNewline ? "\n" : "");
        const once = mergeSettings(existing, settings);
        expect(mergeSettings(once, settings)).toBe(once);
        expect(Object.fromEntries([...readSettings(once)].filter(([k]) => (OWNED_VARIABLES as readonly string[]).includes(k)))).toEqual(settings);
        const foreign = splitLines(existing).filter((l) => !/^(VERIFIED_INSTALLATION|CERTIFICATE_ANCHOR_PKGS|CERTIFICATE_CHAIN|PKG_PATH)=/.test(l));
        const onceLines = splitLines(once);
        for (const l of foreign) expect(onceLines.some((o) => o === l || o === `${l}\n`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("line injection at the point of writing", () => {
  it("refuses a control character in any owned value, and a ';' in PKG_PATH", () => {
    for (const name of OWNED_VARIABLES) {
      for (const bad of ["\n", "\r", "\t", "\u0000", "\u007f", "\u0085", "\u2028"]) {
        expect(() => mergeSettings("# admin\n", { ...settings, [name]: `${settings[name]}${bad}CHECK_VULNERABILITIES=never` }), `${name} ${JSON.stringify(bad)}`).toThrowWithCode("CONFIG_UNSAFE_VALUE");
      }
    }
    expect(() => mergeSettings(undefined, { ...settings, PKG_PATH: "/srv/a;/srv/b" })).toThrowWithCode("CONFIG_UNSAFE_VALUE");
    // Only PKG_PATH is split at ';': a path elsewhere may hold one.
    expect(readSettings(mergeSettings(undefined, { ...settings, CERTIFICATE_CHAIN: "/etc/a;b/chain.pem" })).get("CERTIFICATE_CHAIN")).toBe("/etc/a;b/chain.pem");
  });
});
