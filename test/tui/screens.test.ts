import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CertificateSummary } from "../../src/bootstrap/events.js";
import { certificateLine } from "../../src/cli/reporter.js";
import { MIN_SIZE, renderScreen, screenText, type Borders, type Line } from "../../tui/screens.js";
import { initialState, update, type Action, type WizardState } from "../../tui/state.js";
import { ANCHOR_ROOT, EXPIRED, GOOD_URL, INTERMEDIATE, SUCCESS, certificate, failure } from "./samples.js";

const VT = { width: 80, height: 24 };
const width = (line: Line) => line.reduce((n, segment) => n + segment.text.length, 0);

function play(state: WizardState, ...actions: Action[]): WizardState {
  return actions.reduce((s, action) => update(s, action).state, state);
}
const enter: Action = { type: "key", key: { name: "enter" } };

function everyScreen(url = GOOD_URL, certificates: readonly CertificateSummary[] = [INTERMEDIATE, certificate(), EXPIRED]): WizardState[] {
  const repository = { ...initialState(url, "Default for this system, NetBSD 10.1/amd64."), urlProblem: "The scheme must be https, http or file, not ftp." };
  const progress = play(
    initialState(url),
    enter,
    { type: "event", at: 0, event: { type: "step-started", step: "fetch", detail: `pkg_keys.pem of ${url}` } },
    { type: "event", at: 0, event: { type: "progress", step: "fetch", url: `${url}/pkg_keys.pem`, received: 0, total: 2048 } },
    { type: "event", at: 500, event: { type: "progress", step: "fetch", url: `${url}/pkg_keys.pem`, received: 1024, total: 2048 } },
    { type: "event", at: 500, event: { type: "progress", step: "test-install", url: `${url}/digest.tgz`, received: 1_500_000 } },
    { type: "key", key: { name: "escape" } },
  );
  const review = play(initialState(url), enter, { type: "review-requested", certificates });
  const result = play(initialState(url), enter, { type: "outcome", outcome: SUCCESS });
  const failed = play(initialState(url), enter, { type: "outcome", outcome: failure("BOOT_FOREIGN_ROOT", false) });
  return [repository, progress, review, result, failed];
}

function expectFits(lines: Line[], size: { width: number; height: number }, borders: Borders, asciiText = true) {
  expect(lines).toHaveLength(size.height);
  for (const line of lines) expect(width(line)).toBeLessThanOrEqual(size.width);
  const text = screenText(lines);
  expect(text).not.toMatch(/undefined|NaN|\[object Object\]/);
  if (borders === "ascii" && asciiText) expect(text).toMatch(/^[\x20-\x7e\n]*$/);
  if (size.width >= MIN_SIZE.width && size.height >= MIN_SIZE.height) {
    // The frame is whole: nothing was cut off at the right edge or the bottom.
    const rows = text.split("\n");
    const v = borders === "ascii" ? "|" : "│";
    for (const row of rows.slice(1, size.height - 2)) expect(row.padEnd(size.width).slice(-1)).toBe(v);
    expect(rows[size.height - 2]).toHaveLength(size.width);
  }
}

describe("the screens at 80x24", () => {
  it.each(["ascii", "line"] as const)("fit with every line framed (%s borders)", (borders) => {
    for (const state of everyScreen()) expectFits(renderScreen(state, VT, borders), VT, borders);
  });

  it("repository: the field with its cursor, the problem and the note, Continue and Quit", () => {
    const [repository] = everyScreen();
    const lines = renderScreen(repository as WizardState, VT, "ascii");
    const text = screenText(lines);
    expect(text).toContain(`[${GOOD_URL}`);
    expect(text).toContain("! The scheme must be https, http or file, not ftp.");
    expect(text).toContain("Default for this system, NetBSD 10.1/amd64.");
    expect(text).toMatch(/\[ Continue \] {3}\[ Quit \]/);
    // The cursor is the reversed cell after the text.
    const field = lines.find((line) => line.some((segment) => segment.style === "inverse"));
    expect(field?.find((segment) => segment.style === "inverse")?.text).toBe(" ");
  });

  it("repository: a URL longer than the field scrolls to keep the cursor in view", () => {
    const url = `https://mirror.example.org/${"very-long-directory/".repeat(6)}All`;
    const text = screenText(renderScreen(initialState(url), VT, "ascii"));
    expect(text).toContain("directory/All");
    expect(text).not.toContain("https://mirror");
    const home = update(initialState(url), { type: "key", key: { name: "home" } }).state;
    expect(screenText(renderScreen(home, VT, "ascii"))).toContain("[https://mirror.example.org/");
  });

  it("progress: steps with their state, a bar with bytes and rate, the size-unknown download, the stop notice", () => {
    const [, progress] = everyScreen();
    const text = screenText(renderScreen(progress as WizardState, VT, "ascii"));
    expect(text).toMatch(/\[ \.\. \] Fetch the key bundle/);
    expect(text).toMatch(/\[ {4}\] Write the pkg_install configuration/);
    expect(text).toMatch(/\[#{14}\.{14}\] {2}50% {2}1\.0 KiB of 2\.0 KiB {2}2\.0 KiB\/s/);
    expect(text).toContain("1.4 MiB (size not announced)");
    // The repository's own files go by their names under it.
    expect(text).toMatch(/\| {3}pkg_keys\.pem +\|/);
    expect(text).toContain("Stopping:");
  });

  it("review: role, subject, issuer, wrapped colon fingerprint, dates, days left, status and reason", () => {
    const [, , review] = everyScreen();
    const text = screenText(renderScreen(review as WizardState, VT, "ascii"));
    expect(text).toContain("Certificate 1 of 3: intermediate  VALID");
    expect(text).toContain("Subject: CN=pkgsrc developer CA, O=The NetBSD Foundation");
    expect(text).toContain("Issuer:  CN=pkgsrc CA");
    expect(text).toContain("SHA-256: 52:FC:57:94:DA:F0:2A:9D:1F:87:D7:29:A5:62:0F:B1:");
    expect(text).toContain("         B5:F7:9B:41:A5:B8:F6:02:D9:D1:1C:31:43:6D:64:04");
    expect(text).toContain("Valid:   2026-01-01 to 2027-01-01 (700 days left)");
    expect(text).toContain("> Accept <   [ Back ]");
    // The third certificate does not fit under the first two: the position line says so.
    expect(text).toContain("Certificates 1-2 of 3 (Up/Down for the others)");
    const scrolled = screenText(renderScreen(play(review as WizardState, { type: "key", key: { name: "end" } }), VT, "ascii"));
    expect(scrolled).toContain("Certificate 3 of 3: signing  INVALID: will not be installed");
    expect(scrolled).toContain("expired 151 days ago");
    expect(scrolled).toMatch(/Reason: {2}the certificate expired on 2025-01-01, before the verification +\|\n\| +time \(RFC 5280 section 6\.1\.3 \(a\)\(2\)\) \[PATH_EXPIRED\]/);
  });

  it("result: files as the target sees them, the verdict and the check that ran", () => {
    const [, , , result] = everyScreen();
    const text = screenText(renderScreen(result as WizardState, VT, "ascii"));
    expect(text).toMatch(/updated\s+\/etc\/pkg_install\.conf/);
    // Long paths are wrapped after a "/", never shortened, never cut inside the repository id.
    expect(text).not.toContain("...");
    expect(text).toMatch(/created {3}\/etc\/pkgtrust\/repositories\/ +\|\n\| {5}http-127\.0\.0\.1-8080-pub-pkgsrc-packages-netbsd-amd64-10\.0-all-ff45b3b785 \|\n\| {5}\/anchors\.pem/);
    // No pkg_add ran: the screen says so, and does not call it a test-install.
    expect(text).toContain("Signature check: digest-20220214 TRUSTED");
    expect(text).toMatch(/Check: {2}checked by pkgtrust's pkg_install-exact verifier; pkg_add was not +\|\n\| +run \(no pkg_add on this system\)/);
    expect(text).toContain("> Exit <");
  });

  it("failure: the step, the cause with its code, what was changed, the next step, another repository or none", () => {
    const [, , , , failed] = everyScreen();
    const text = screenText(renderScreen(failed as WizardState, VT, "ascii"));
    expect(text).toContain("Failed step: Verify the keys against the anchor");
    expect(text).toContain("[BOOT_FOREIGN_ROOT]");
    expect(text).toContain("Some files could not be put back");
    expect(text).toContain("Next: Do not use this repository");
    expect(text).toContain("Verification is never turned off.");
    expect(text).toMatch(/> Change URL < {3}\[ No binary packages \]/);
    const declined = play(initialState(GOOD_URL), enter, { type: "outcome", outcome: failure("BOOT_DECLINED") });
    expect(screenText(renderScreen(declined, VT, "ascii"))).toMatch(/> Retry < {3}\[ Change URL \] {3}\[ Quit \]/);
  });

  it("repository: Esc asks before quitting, Stay focused", () => {
    const asked = play(initialState(GOOD_URL), { type: "key", key: { name: "escape" } });
    const text = screenText(renderScreen(asked, VT, "ascii"));
    expect(text).toContain("Quit without setting anything up? Nothing has been changed.");
    expect(text).toMatch(/> Stay < {3}\[ Quit \]/);
    expect(text).toContain("y quit  n or Esc stay");
  });

  it("result: a repository id as long as the CDN's stays whole on its line", () => {
    const id = "cdn.netbsd.org-pub-pkgsrc-packages-netbsd-amd64-10.0-all-2da8e8e7ee";
    const files = [{ path: `/etc/pkgtrust/repositories/${id}/anchors.pem`, status: "created" as const }];
    if (!SUCCESS.ok) throw new Error("SUCCESS is a successful outcome");
    const state = play(initialState(GOOD_URL), enter, { type: "outcome", outcome: { ok: true, result: { ...SUCCESS.result, files } } });
    const text = screenText(renderScreen(state, VT, "ascii"));
    expect(text).toContain(`|     ${id}/`);
  });

  it("below the minimum size says how large the terminal must be", () => {
    const text = screenText(renderScreen(initialState(GOOD_URL), { width: 40, height: 10 }, "ascii"));
    expect(text).toMatch(/make it at\s+least\s+50x20/);
  });
});

describe("any state at any size", () => {
  const text = fc.string({ unit: fc.constantFrom("a", "B", "/", ":", " ", "-", ".", "{", "}", "é", "x"), maxLength: 200 });
  const cert = fc.record({
    subject: text,
    issuer: text,
    sha256: fc.constantFrom("", "ab", "52fc5794daf02a9d1f87d729a5620fb1b5f79b41a5b8f602d9d11c31436d6404"),
    role: fc.constantFrom("intermediate" as const, "signing" as const, "other" as const),
    status: fc.constantFrom("valid" as const, "invalid" as const),
    reason: text,
    notBefore: text,
    notAfter: text,
    daysLeft: fc.integer({ min: -100000, max: 100000 }),
  });

  it("fits, framed, and shows no undefined, NaN or [object Object]", () => {
    fc.assert(
      fc.property(text, fc.array(cert, { maxLength: 6 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 30, max: 160 }), fc.integer({ min: 12, max: 60 }), fc.constantFrom("ascii" as const, "line" as const), (url, certificates, scroll, w, h, borders) => {
        for (const state of everyScreen(url, certificates)) {
          const scrolled = { ...state, reviewScroll: Math.min(scroll, Math.max(0, certificates.length - 1)) };
          expectFits(renderScreen(scrolled, { width: w, height: h }, borders), { width: w, height: h }, borders, false);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("download figures", () => {
  it("are rounded and never run past the frame, at any rate, size and width", () => {
    const bytes = fc.oneof(fc.double({ min: 0, max: 1e13, noNaN: true }), fc.integer({ min: 0, max: 5000 }));
    fc.assert(
      fc.property(bytes, fc.option(bytes, { nil: undefined }), fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.integer({ min: 50, max: 160 }), (received, total, seconds, w) => {
        const url = `${GOOD_URL}/digest-20220214.tgz`;
        const state = play(
          initialState(GOOD_URL),
          enter,
          { type: "event", at: 0, event: { type: "progress", step: "test-install", url, received: 0, ...(total === undefined ? {} : { total }) } },
          { type: "event", at: seconds * 1000, event: { type: "progress", step: "test-install", url, received, ...(total === undefined ? {} : { total }) } },
        );
        const size = { width: w, height: 24 };
        const lines = renderScreen(state, size, "ascii");
        expectFits(lines, size, "ascii");
        const text = screenText(lines);
        // Whole bytes, or one decimal of a larger unit: no raw float such as 471.976401179941 B.
        expect(text).not.toMatch(/\d\.\d{2,}/);
        expect(text).not.toMatch(/\d+\.\d+ B\b/);
        // A figure is whole or absent: never a unit cut off ("KiB/" without its "s").
        expect(text).not.toMatch(/[KMG]?i?B\/(?!s)/);
      }),
      { numRuns: 300 },
    );
  });

  it("a rate below 1 KiB/s is whole bytes", () => {
    const url = `${GOOD_URL}/digest-20220214.tgz`;
    const state = play(
      initialState(GOOD_URL),
      enter,
      { type: "event", at: 0, event: { type: "progress", step: "test-install", url, received: 0, total: 100_000 } },
      { type: "event", at: 3390, event: { type: "progress", step: "test-install", url, received: 1600, total: 100_000 } },
    );
    expect(screenText(renderScreen(state, VT, "ascii"))).toMatch(/1\.6 KiB of 97\.7 KiB {2}472 B\/s/);
  });
});

describe("a revoked certificate on the review", () => {
  it("says in one line what the revocation does and does not do", () => {
    const note = "Revoked: pkgtrust leaves it out of the trust files, but pkg_install consults no CRL: after Accept it still installs packages signed with it (the signature carries it).";
    const revoked = certificate({ status: "invalid", code: "CERT_REVOKED", reason: 'is revoked by a CRL of "CN=pkgsrc developer CA"', note });
    const state = play(initialState(GOOD_URL), enter, { type: "review-requested", certificates: [revoked] });
    const text = screenText(renderScreen(state, VT, "ascii")).replace(/ *\|\n\| +/g, " ");
    expect(text).toContain(note);
    expect(certificateLine(revoked)).toContain(`\n      ${note}`);
  });
});

describe("the anchor on the review", () => {
  it("shows its fingerprint upper case with colons, as release notes publish it, and two certificates still fit at 80x24", () => {
    const state = play(initialState(GOOD_URL), enter, { type: "review-requested", certificates: [INTERMEDIATE, certificate()], anchor: { path: "/usr/share/certs/pkgsrc/pkgsrc-ca.pem", roots: [ANCHOR_ROOT] } });
    const text = screenText(renderScreen(state, VT, "ascii"));
    expect(text).toContain("Anchor:  CN=pkgsrc CA, O=The NetBSD Foundation");
    expect(text).toContain("SHA-256: 03:EF:94:43:BE:0B:6F:14:F6:58:8E:5D:AB:9E:D2:82:");
    expect(text).toContain("         8C:A7:7D:A8:5F:31:75:E4:21:96:C2:CD:1F:8A:07:66");
    expect(text).toContain("Certificates 1-2 of 2");
  });
});
