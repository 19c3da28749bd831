/**
 * The wizard end to end: the built binary in tmux at 80x24 against the loopback
 * repositories, driven by keys, its screens read with capture-pane and the target's files
 * compared before and after. Needs `npm run build` (npm test builds first).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { snapshotTree } from "../fixtures/repository.js";
import { startLoopback, type Loopback } from "./loopback.js";
import { TmuxSession } from "./tmux.js";

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

function wizard(options: { term?: string; env?: Record<string, string>; args?: string[]; width?: number; height?: number } = {}): Run {
  const target = loopback.newTarget();
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

describe("the setup wizard in a terminal", () => {
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
    if (process.env.PKGTRUST_CAPTURE_DOCS) writeFileSync("/tmp/pkgtrust-screens.txt", [first, review, result].join("\n\n"));
  });
});
