/**
 * The wizard end to end: the built binary in tmux at 80x24 against the loopback
 * repositories, driven by keys, its screens read with capture-pane and the target's files
 * compared before and after. Needs `npm run build` (npm test builds first).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { snapshotTree } from "../fixtures/repository.js";
import { startLoopback, type Loopback } from "./loopback.js";
import { TmuxSession } from "./tmux.js";
import { requireTools } from "../fixtures/requirements.js";

const TERMINAL = requireTools(["tmux", "pgrep"], "the wizard end to end in tmux");

let loopback: Loopback;
const sessions: TmuxSession[] = [];

beforeAll(async () => {
  loopback = await startLoopback();
});
afterAll(async () => {
  await loopback?.close();
});
afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

interface Run {
  readonly tmux: TmuxSession;
  readonly target: string;
  readonly before: Record<string, string>;
}

function wizard(options: { term?: string; env?: Record<string, string>; args?: string[]; width?: number; height?: number; prepare?: (target: string) => void } = {}): Run {
  const target = loopback.newTarget();
  options.prepare?.(target);
  const before = snapshotTree(target);
  const tmux = new TmuxSession({
    args: ["setup", "--root", target, "--anchor", DEFAULT_ANCHOR, ...(options.args ?? [])],
    term: options.term ?? "xterm",
    statusFile: loopback.statusFile(),
    ...(options.env ? { env: options.env } : {}),
    ...(options.width ? { width: options.width } : {}),
    ...(options.height ? { height: options.height } : {}),
  });
  sessions.push(tmux);
  return { tmux, target, before };
}

async function typeUrl(tmux: TmuxSession, url: string): Promise<void> {
  await tmux.waitFor("1/4 Repository");
  tmux.send("C-u");
  tmux.type(url);
  await tmux.waitFor(url.slice(-30));
  tmux.send("Enter");
}

describe.runIf(TERMINAL)("the setup wizard in a terminal", () => {
  it("sets up a repository typed after Ctrl-U: review, accept, result, exit 0", async () => {
    const { tmux, target, before } = wizard();
    const first = await tmux.waitFor("1/4 Repository");
    expect(first).toContain("https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All");
    await typeUrl(tmux, loopback.url("good"));
    const review = await tmux.waitFor("3/4 Key review");
    expect(review).toMatch(/Certificate 1 of 2: intermediate\s+VALID/);
    // 32 bytes as AA:BB:..., wrapped 16 to a line.
    expect(review).toMatch(/SHA-256: ([0-9A-F]{2}:){16} +\S\n\S +([0-9A-F]{2}:){15}[0-9A-F]{2} /);
    expect(review).toContain("> Accept <");
    expect(snapshotTree(target)).toEqual(before);
    tmux.send("Enter");
    const result = await tmux.waitFor("4/4 Done");
    expect(result).toMatch(/created\s+\/etc\/pkg_install\.conf/);
    expect(result).toMatch(/Test-install: digest-20220214 TRUSTED/);
    tmux.send("Enter");
    expect(await tmux.exitStatus()).toBe(0);
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain("VERIFIED_INSTALLATION=always");
  });

  it("shows a bad URL's problem inline and goes on once it is corrected", async () => {
    const { tmux, target, before } = wizard();
    await typeUrl(tmux, "ftp://ftp.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All");
    let screen = await tmux.waitFor("! The scheme must be");
    expect(screen).toContain("1/4 Repository");
    tmux.send("C-u");
    tmux.type("http:///All");
    tmux.send("Enter");
    screen = await tmux.waitFor("! The host name is missing");
    // Corrected in place: the host typed after the scheme (Home, three steps right).
    tmux.send("Home", "Right", "Right", "Right", "Right", "Right", "Right", "Right");
    tmux.type(new URL(loopback.url("good")).host + "/good");
    tmux.send("Enter");
    screen = await tmux.waitFor("3/4 Key review");
    expect(screen).not.toContain("! ");
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(130);
    expect(snapshotTree(target)).toEqual(before);
  });

  it("fails on a rogue bundle, changes nothing, and sets up after the URL is changed", async () => {
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("rogue")] });
    const first = await tmux.waitFor("1/4 Repository");
    expect(first).toContain(loopback.url("rogue"));
    tmux.send("Enter");
    const failure = await tmux.waitFor("Failed step:");
    expect(failure).toMatch(/Failed step: Verify the keys against the anchor/);
    expect(failure).toContain("[BOOT_FOREIGN_ROOT]");
    expect(failure).toContain("Nothing on the system was changed.");
    expect(failure).toMatch(/> Retry <\s+\[ Change URL \]\s+\[ Quit \]/);
    expect(snapshotTree(target)).toEqual(before);
    tmux.send("Tab");
    await tmux.waitFor("> Change URL <");
    tmux.send("Enter");
    await typeUrl(tmux, loopback.url("good"));
    await tmux.waitFor("3/4 Key review");
    tmux.send("Enter");
    await tmux.waitFor("4/4 Done");
    tmux.send("Enter");
    expect(await tmux.exitStatus()).toBe(0);
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain(loopback.url("good"));
  });

  it("shows a missing anchor on the failure screen before downloading anything", async () => {
    const requests = loopback.server.requests.length;
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("good")], prepare: (dir) => rmSync(path.join(dir, DEFAULT_ANCHOR)) });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    const failure = await tmux.waitFor("Failed step:");
    expect(failure).toContain("[BOOT_ANCHOR_MISSING]");
    expect(loopback.server.requests.length).toBe(requests);
    expect(snapshotTree(target)).toEqual(before);
  });

  it("Quit on the failure screen exits with the failure's status", async () => {
    const { tmux } = wizard({ args: ["--repo", loopback.url("rogue")] });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    await tmux.waitFor("Failed step:");
    tmux.send("BTab");
    await tmux.waitFor("> Quit <");
    tmux.send("Enter");
    expect(await tmux.exitStatus()).toBe(1);
  });

  it("Back on the key review returns to the URL and writes nothing", async () => {
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("good")] });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    await tmux.waitFor("3/4 Key review");
    tmux.send("Right");
    await tmux.waitFor("> Back <");
    tmux.send("Enter");
    const screen = await tmux.waitFor("1/4 Repository");
    expect(screen).toContain(loopback.url("good"));
    expect(snapshotTree(target)).toEqual(before);
    // Esc does the same from the review.
    tmux.send("Enter");
    await tmux.waitFor("3/4 Key review");
    tmux.send("Escape");
    await tmux.waitFor("1/4 Repository");
    tmux.send("Escape");
    expect(await tmux.exitStatus()).toBe(130);
    expect(snapshotTree(target)).toEqual(before);
  });
});

describe.runIf(TERMINAL)("plain pkgtrust", () => {
  it("opens the wizard on a terminal, with the default for the running system", async () => {
    const tmux = new TmuxSession({ args: [], term: "xterm", statusFile: loopback.statusFile() });
    sessions.push(tmux);
    const screen = await tmux.waitFor("1/4 Repository");
    expect(screen).toMatch(/\[https:\/\/cdn\.NetBSD\.org\/pub\/pkgsrc\/packages\/NetBSD\/[a-z0-9]+\/[0-9]+\.0\/All +\]/);
    expect(screen).toMatch(/Default for (this system|NetBSD 10\.0\/amd64)/);
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(130);
  });
});

describe.runIf(TERMINAL)("a server that never answers", () => {
  it("shows the time waited, the attempt and when the download gives up, and moves while it waits", async () => {
    // --timeout 1: each attempt waits a second for the response headers, then the next starts.
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("silent"), "--timeout", "1"] });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    const first = await tmux.waitFor(/no answer yet: \d+s, attempt 1 of 4, gives up in \d+m\d\ds/);
    expect(first).toMatch(/\[ \.\. \] Fetch the key bundle/);
    // The clock keeps the attempts' start: seconds waited grow over the retries.
    await tmux.waitFor(/no answer yet: [2-9]s, attempt [2-4] of 4/);
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(130);
    expect(snapshotTree(target)).toEqual(before);
  });
});

describe.runIf(TERMINAL)("Ctrl-C leaves the system unchanged", () => {
  const cases: readonly { name: string; repository: "good" | "rogue" | "stallkeys" | "stallpkg"; reach: (tmux: TmuxSession) => Promise<unknown> }[] = [
    { name: "on the repository screen", repository: "good", reach: (tmux) => tmux.waitFor("1/4 Repository") },
    { name: "while the bundle downloads", repository: "stallkeys", reach: (tmux) => start(tmux, /\[ \.\. \] Fetch the key bundle/) },
    { name: "on the key review", repository: "good", reach: (tmux) => start(tmux, "3/4 Key review") },
    { name: "on the failure screen", repository: "rogue", reach: (tmux) => start(tmux, "Failed step:") },
    {
      name: "during the test-install, after the files were written (they are put back)",
      repository: "stallpkg",
      reach: async (tmux) => {
        await start(tmux, "3/4 Key review");
        tmux.send("Enter");
        await tmux.waitFor(/\[ \.\. \] Test-install a signed package/);
      },
    },
  ];
  async function start(tmux: TmuxSession, pattern: RegExp | string) {
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    return tmux.waitFor(pattern);
  }
  const RESTORED = { alternateScreen: false, cursorVisible: true, keypad: false };
  for (const { name, repository, reach } of cases) {
    it(name, async () => {
      const { tmux, target, before } = wizard({ args: ["--repo", loopback.url(repository)] });
      await reach(tmux);
      expect(tmux.modes()).toEqual({ alternateScreen: true, cursorVisible: false, keypad: true });
      tmux.send("C-c");
      expect(await tmux.exitStatus()).toBe(130);
      expect(snapshotTree(target)).toEqual(before);
      expect(tmux.modes()).toEqual(RESTORED);
    });
  }

  it("an exception under the wizard (an unreadable --ca-file) restores the terminal, then reports it", async () => {
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("good"), "--ca-file", "/nonexistent/ca.pem"] });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    expect(await tmux.exitStatus()).toBe(3);
    expect(tmux.modes()).toEqual(RESTORED);
    const screen = await tmux.waitFor("--ca-file: cannot read /nonexistent/ca.pem");
    expect(screen).not.toContain("pkgtrust setup");
    expect(snapshotTree(target)).toEqual(before);
  });

  it("SIGTERM on the key review is taken as Ctrl-C", async () => {
    const { tmux, target, before } = wizard({ args: ["--repo", loopback.url("good")] });
    await start(tmux, "3/4 Key review");
    process.kill(tmux.binaryPid(), "SIGTERM");
    expect(await tmux.exitStatus()).toBe(130);
    expect(snapshotTree(target)).toEqual(before);
    expect(tmux.modes()).toEqual(RESTORED);
  });

  it("on the result screen it just leaves (status 0): the setup is done", async () => {
    const { tmux, target } = wizard({ args: ["--repo", loopback.url("good")] });
    await start(tmux, "3/4 Key review");
    tmux.send("Enter");
    await tmux.waitFor("4/4 Done");
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(0);
    expect(readFileSync(path.join(target, "etc/pkg_install.conf"), "utf8")).toContain(loopback.url("good"));
  });
});

describe.runIf(TERMINAL)("terminals an installer meets", () => {
  /** SGR colour parameters (30-37, 40-47, 90-97, 38;5 ...) in a screen captured with attributes. */
  const colours = (tmux: TmuxSession) =>
    tmux
      .screenWithAttributes()
      .split(`${String.fromCharCode(27)}[`)
      .slice(1)
      .some((sequence) => /^[0-9;]*m/.test(sequence) && sequence.slice(0, sequence.indexOf("m")).split(";").some((n) => /^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/.test(n)));

  it("TERM=vt100: the whole screen, with line drawing through the alternate character set, no colour", async () => {
    const { tmux } = wizard({ term: "vt100", args: ["--repo", loopback.url("good")] });
    await tmux.waitFor("1/4 Repository");
    tmux.send("Enter");
    const review = await tmux.waitFor("3/4 Key review");
    // capture-pane shows alternate-charset cells as their ASCII letters (q = horizontal line).
    expect(review.split("\n")[0]).toMatch(/^lq pkgtrust setup q+ 3\/4 Key review qk$/);
    expect(review).toContain("> Accept <");
    expect(colours(tmux)).toBe(false);
    tmux.send("Enter");
    await tmux.waitFor("4/4 Done");
    tmux.send("Enter");
    expect(await tmux.exitStatus()).toBe(0);
  });

  it("a terminal without line drawing and a C locale gets ASCII borders", async () => {
    const { tmux } = wizard({ term: "sun", env: { LANG: "C", LC_ALL: "C", LC_CTYPE: "C" } });
    const screen = await tmux.waitFor("1/4 Repository");
    const lines = screen.split("\n");
    expect(lines[0]).toMatch(/^\+- pkgtrust setup -+ 1\/4 Repository -\+$/);
    expect(lines[1]).toMatch(/^\| +\|$/);
    expect(lines[22]).toMatch(/^\+-{78}\+$/);
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(130);
  });

  it("NO_COLOR turns colour off on a colour terminal; without it the statuses are coloured", async () => {
    const plain = wizard({ term: "xterm", env: { NO_COLOR: "1" }, args: ["--repo", loopback.url("good")] });
    const coloured = wizard({ term: "xterm", args: ["--repo", loopback.url("good")] });
    for (const { tmux } of [plain, coloured]) {
      await tmux.waitFor("1/4 Repository");
      tmux.send("Enter");
      await tmux.waitFor("3/4 Key review");
    }
    expect(colours(plain.tmux)).toBe(false);
    expect(colours(coloured.tmux)).toBe(true);
    // Readable without colour: the focused button is marked in the text itself.
    expect(plain.tmux.screen()).toContain("> Accept <   [ Back ]");
  });

  it("wsvt25 (NetBSD's console) and vt220 draw the same screens as vt100, padding never shown", async () => {
    const reviews: string[] = [];
    for (const term of ["vt100", "wsvt25", "vt220"]) {
      const { tmux } = wizard({ term, args: ["--repo", loopback.url("good")], env: { LANG: "C", LC_ALL: "C" } });
      await tmux.waitFor("1/4 Repository");
      tmux.send("Enter");
      const review = await tmux.waitFor("3/4 Key review");
      expect(review).toMatch(/Certificate 2 of 2: signing\s+VALID/);
      // terminfo's delays ("$<2>" in wsvt25's smacs) are for the driver, never for the screen.
      expect(review).not.toContain("$<");
      reviews.push(review);
      tmux.send("C-c");
      expect(await tmux.exitStatus()).toBe(130);
    }
    expect(reviews[1]).toBe(reviews[0]);
    expect(reviews[2]).toBe(reviews[0]);
  });

  it("redraws on resize", async () => {
    const { tmux } = wizard();
    await tmux.waitFor("1/4 Repository");
    tmux.resize(100, 30);
    // Wait for the whole frame: the redraw reaches the bottom border last.
    const wide = await tmux.waitFor((screen) => screen.split("\n")[0]?.length === 100 && /^mq{98}j$/.test(screen.split("\n")[28] ?? ""));
    expect(wide.split("\n")[0]).toMatch(/^lq pkgtrust setup q+ 1\/4 Repository qk$/);
    expect(wide.split("\n")).toHaveLength(30);
    expect(wide.split("\n")[28]).toMatch(/^mq{98}j$/);
    tmux.resize(80, 24);
    const back = await tmux.waitFor((screen) => screen.split("\n")[0]?.length === 80 && /^mq{78}j$/.test(screen.split("\n")[22] ?? ""));
    expect(back.split("\n")).toHaveLength(24);
    tmux.send("C-c");
    expect(await tmux.exitStatus()).toBe(130);
  });
});

/** The frame's alternate-charset cells (capture-pane shows them as l, q, k, x, m, j) as the box characters a terminal draws. */
function boxCharacters(screen: string): string {
  const rows = screen.split("\n");
  const last = rows.findIndex((row) => /^mq+j$/.test(row));
  return rows
    .map((row, i) => {
      if (i === 0) return row.replace(/^lq/, "┌─").replace(/qk$/, "─┐").replace(/q{2,}/g, (run) => "─".repeat(run.length));
      if (i === last) return `└${"─".repeat(row.length - 2)}┘`;
      if (i < last && row.startsWith("x")) return `│${row.slice(1, -1)}│`;
      return row;
    })
    .join("\n");
}

/**
 * Not a check: regenerates docs/tui-screens.md from a real run when PKGTRUST_TUI_SCREENS names
 * the file (PKGTRUST_TUI_SCREENS=docs/tui-screens.md npx vitest run test/tui/wizard.e2e.test.ts -t captures).
 */
describe.runIf(process.env.PKGTRUST_TUI_SCREENS)("docs", () => {
  it("captures the happy path's screens", async () => {
    const shots: [string, string][] = [];
    const release = (target: string) => {
      mkdirSync(path.join(target, "etc"), { recursive: true });
      writeFileSync(path.join(target, "etc/release"), "NetBSD 10.1/amd64\n");
    };
    const run = wizard({ term: "vt100", env: { LANG: "C", LC_ALL: "C" }, prepare: release }).tmux;
    shots.push(["1. Repository, with the default for the target (`--root`): its /etc/release says NetBSD 10.1/amd64", await run.waitFor("1/4 Repository")]);
    run.send("C-u");
    run.type("cdn.example.org/pub/pkgsrc/All");
    run.send("Enter");
    shots.push(["1. Repository: a URL without a scheme, refused inline", await run.waitFor("! ")]);
    run.send("C-u");
    run.type(loopback.url("good"));
    run.send("Enter");
    shots.push(["3. Key review: Accept is the default button", await run.waitFor("3/4 Key review")]);
    run.send("Enter");
    shots.push(["4. Result: Enter exits with status 0", await run.waitFor("4/4 Done")]);
    run.send("Enter");
    expect(await run.exitStatus()).toBe(0);

    // The progress screen flashes by on a loopback server: this repository holds back the test package.
    const slow = wizard({ term: "vt100", env: { LANG: "C", LC_ALL: "C" }, args: ["--repo", loopback.url("stallpkg")] });
    await slow.tmux.waitFor("1/4 Repository");
    slow.tmux.send("Enter");
    await slow.tmux.waitFor("3/4 Key review");
    slow.tmux.send("Enter");
    await slow.tmux.waitFor(/\[ \.\. \] Test-install/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    shots.splice(2, 0, ["2. Progress: the steps and one bar per download (here the test package is held back by the server)", slow.tmux.screen()]);
    slow.tmux.send("C-c");
    expect(await slow.tmux.exitStatus()).toBe(130);

    const rogue = wizard({ term: "vt100", env: { LANG: "C", LC_ALL: "C" }, args: ["--repo", loopback.url("rogue")] });
    await rogue.tmux.waitFor("1/4 Repository");
    rogue.tmux.send("Enter");
    shots.push(["5. Failure: a bundle that chains to another root", await rogue.tmux.waitFor("Failed step:")]);
    rogue.tmux.send("C-c");

    const body = shots.map(([title, screen]) => `## ${title}\n\n\`\`\`text\n${boxCharacters(screen)}\n\`\`\`\n`).join("\n");
    const header =
      "# The setup wizard's screens\n\n" +
      "Captured from a real run of `pkgtrust setup --root T` in tmux at 80x24 with `TERM=vt100`, against a\n" +
      "repository served on 127.0.0.1 by the test suite (test/tui/wizard.e2e.test.ts regenerates this file:\n" +
      "`PKGTRUST_TUI_SCREENS=docs/tui-screens.md npx vitest run test/tui/wizard.e2e.test.ts -t captures`).\n" +
      "The frame is drawn with the terminal's line-drawing characters, shown here as box characters;\n" +
      "a terminal without them gets `+`, `-` and `|`. The reversed cells (the cursor, the focused button)\n" +
      "do not show in text: the focused button is also marked `> Accept <`.\n\n";
    writeFileSync(process.env.PKGTRUST_TUI_SCREENS as string, header + body);
  });
});
