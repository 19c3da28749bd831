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
    // tmux sets TERM itself (default-terminal), so the environment is set on the command line.
    const env = { PKGTRUST_PKG_ADD: "none", ...options.env, TERM: options.term };
    const words = ["env", ...Object.entries(env).map(([name, value]) => `${name}=${value}`), process.execPath, bin, ...options.args];
    const command = `${words.map(quote).join(" ")}; echo $? > ${quote(options.statusFile)}; sleep 600`;
    this.tmux("-f", "/dev/null", "new-session", "-d", "-x", String(options.width ?? 80), "-y", String(options.height ?? 24), command);
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8", env: { ...process.env, TMUX: "" } });
  }

  /** The visible screen as text, one line per row (tmux drops trailing blanks). */
  screen(): string {
    return this.tmux("capture-pane", "-p").replace(/\n$/, "");
  }

  /** The same with the SGR attributes (colours, reverse) as escape sequences. */
  screenWithAttributes(): string {
    return this.tmux("capture-pane", "-p", "-e");
  }

  /** Keys by tmux name ("Enter", "Escape", "C-u", "BTab"), or literal text with `literal`. */
  send(...keys: string[]): void {
    this.tmux("send-keys", ...keys);
  }

  type(text: string): void {
    this.tmux("send-keys", "-l", text);
  }

  /** The terminal modes a full-screen program changes, as tmux's emulator holds them. */
  modes(): { alternateScreen: boolean; cursorVisible: boolean; keypad: boolean } {
    const [alternate, cursor, keypad] = this.tmux("display-message", "-p", "#{alternate_on} #{cursor_flag} #{keypad_flag}").trim().split(" ");
    return { alternateScreen: alternate === "1", cursorVisible: cursor === "1", keypad: keypad === "1" };
  }

  /** The pid of the binary: the child of the pane's shell. */
  binaryPid(): number {
    const shell = this.tmux("display-message", "-p", "#{pane_pid}").trim();
    return Number(execFileSync("pgrep", ["-P", shell], { encoding: "utf8" }).trim().split("\n")[0]);
  }

  resize(width: number, height: number): void {
    this.tmux("resize-window", "-x", String(width), "-y", String(height));
  }

  /**
   * Polls the screen until `pattern` shows (10 s at most); returns that screen. Every screen
   * seen on the way is checked for text a bug would leave (undefined, NaN, [object Object]).
   */
  async waitFor(pattern: RegExp | string | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const matches = typeof pattern === "string" ? (text: string) => text.includes(pattern) : pattern instanceof RegExp ? (text: string) => pattern.test(text) : pattern;
    let last = "";
    while (Date.now() < deadline) {
      last = this.screen();
      const bug = /undefined|NaN|\[object Object\]/.exec(last);
      if (bug) throw new Error(`the screen shows "${bug[0]}":\n${last}`);
      if (matches(last)) return last;
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
