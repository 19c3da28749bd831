/**
 * Drives the built binary in a detached tmux session (80x24 unless told), the way a person
 * at a terminal would: send keys, read the screen with capture-pane. One tmux server per
 * session (its own -L socket), killed by close().
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

let sessions = 0;

export interface TmuxOptions {
  /** Arguments to bin/pkgtrust.mjs. */
  readonly args: readonly string[];
  readonly term: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The exit status of the binary is written here when it ends. */
  readonly statusFile: string;
  readonly width?: number;
  readonly height?: number;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export class TmuxSession {
  private readonly socket = `pkgtrust-tui-${process.pid}-${sessions++}`;
  private readonly statusFile: string;

  constructor(options: TmuxOptions) {
    this.statusFile = options.statusFile;
    const bin = path.resolve("bin/pkgtrust.mjs");
    const command = `${[process.execPath, bin, ...options.args].map(quote).join(" ")}; echo $? > ${quote(options.statusFile)}; sleep 600`;
    const env = { PKGTRUST_PKG_ADD: "none", ...options.env, TERM: options.term };
    const envArgs = Object.entries(env).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
    this.tmux("-f", "/dev/null", "new-session", "-d", "-x", String(options.width ?? 80), "-y", String(options.height ?? 24), ...envArgs, command);
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8", env: { ...process.env, TMUX: "" } });
  }

  screen(): string {
    return this.tmux("capture-pane", "-p");
  }

  /** Keys by tmux name ("Enter", "Escape", "C-u", "BTab"), or literal text with `literal`. */
  send(...keys: string[]): void {
    this.tmux("send-keys", ...keys);
  }

  type(text: string): void {
    this.tmux("send-keys", "-l", text);
  }

  resize(width: number, height: number): void {
    this.tmux("resize-window", "-x", String(width), "-y", String(height));
  }

  /** Polls the screen until `pattern` shows (10 s at most); returns that screen. */
  async waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = this.screen();
      if (typeof pattern === "string" ? last.includes(pattern) : pattern.test(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${String(pattern)}; the screen was:\n${last}`);
  }

  /** The binary's exit status, once it has ended (10 s at most). */
  async exitStatus(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.statusFile)) {
        const text = readFileSync(this.statusFile, "utf8").trim();
        if (text !== "") return Number(text);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the binary did not exit; the screen was:\n${this.screen()}`);
  }

  close(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // Already gone.
    }
  }
}
