/**
 * A detached tmux session running dist/pkgtrust.mjs (test/tui/tmux.ts drives bin/ only),
 * for the wizard smoke test of the single-file build. Async tmux calls: the loopback
 * repository server runs in the test process.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
let sessions = 0;

export class DistTerminal {
  private readonly socket = `pkgtrust-dist-${process.pid}-${sessions++}`;

  private constructor(private readonly statusFile: string) {}

  /** Starts `node FILE ARGS...` in an 80x24 terminal of type `term`; its exit status goes to statusFile. */
  static async start(file: string, args: readonly string[], options: { cwd: string; term: string; statusFile: string; env: Record<string, string> }): Promise<DistTerminal> {
    const terminal = new DistTerminal(options.statusFile);
    const command = `cd ${quote(options.cwd)} && ${[process.execPath, file, ...args].map(quote).join(" ")}; echo $? > ${quote(options.statusFile)}; sleep 600`;
    const env = Object.entries({ ...options.env, TERM: options.term }).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
    await terminal.tmux("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", ...env, command);
    return terminal;
  }

  private async tmux(...args: string[]): Promise<string> {
    return (await run("tmux", ["-L", this.socket, ...args], { encoding: "utf8", env: { ...process.env, TMUX: "" } })).stdout;
  }

  send(...keys: string[]): Promise<string> {
    return this.tmux("send-keys", ...keys);
  }

  type(text: string): Promise<string> {
    return this.tmux("send-keys", "-l", text);
  }

  /** Polls the screen until `text` shows (15 s at most). */
  async waitFor(text: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.tmux("capture-pane", "-p");
      if (screen.includes(text)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${text}; the screen was:\n${screen}`);
  }

  async exitStatus(): Promise<number> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (existsSync(this.statusFile) && readFileSync(this.statusFile, "utf8").trim() !== "") return Number(readFileSync(this.statusFile, "utf8"));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("the program did not exit");
  }

  async close(): Promise<void> {
    await this.tmux("kill-server").catch(() => undefined);
  }
}
