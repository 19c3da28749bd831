/**
 * The wizard in-process on a fake xterm (a PassThrough for the keyboard, a recording stream
 * for the screen): the wiring between blessed, the reducer and the injected pipeline. blessed
 * writes only the cells that change, so after the first screen the tests follow the calls
 * into the pipeline rather than the screen text (the tmux tests read the screens).
 */
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { EmitEvent } from "../../src/bootstrap/events.js";
import { EXIT_CANCELLED } from "../../tui/state.js";
import { runWizard, type RunBootstrap } from "../../tui/wizard.js";
import { GOOD_URL, INTERMEDIATE, SUCCESS, failure } from "./samples.js";

const ESC = String.fromCharCode(27);

class FakeTerminal extends Writable {
  readonly isTTY = true;
  columns = 80;
  rows = 24;
  text = "";
  writes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString("utf8");
    this.writes++;
    done();
  }
}

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = new FakeTerminal();
  return { input, output };
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await tick(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the wizard with an injected pipeline", () => {
  it("hands the URL to the pipeline, shows the review, answers it, exits 0 from the result; the terminal is restored", async () => {
    const { input, output } = terminal();
    const calls: string[] = [];
    let reviewed = false;
    let returned = false;
    const runBootstrap: RunBootstrap = async (repository, emit, review) => {
      calls.push(repository);
      emit({ type: "step-started", step: "fetch", detail: "pkg_keys.pem" });
      const accepted = review([INTERMEDIATE]);
      reviewed = true;
      expect(await accepted).toBe(true);
      returned = true;
      return SUCCESS;
    };
    const status = runWizard({ repository: GOOD_URL, runBootstrap, env: { TERM: "xterm" }, input, output });
    await until(() => output.text.includes("1/4 Repository"), "the first screen");
    input.write("\r");
    await until(() => reviewed, "the review");
    await tick();
    input.write("\r");
    await until(() => returned, "the outcome");
    await tick();
    input.write("\r");
    expect(await status).toBe(0);
    expect(calls).toEqual([GOOD_URL]);
    // Left the alternate screen and showed the cursor again.
    expect(output.text.slice(-200)).toContain(`${ESC}[?1049l`);
    expect(output.text.slice(-200)).toContain(`${ESC}[?25h`);
  });

  it("redraws a burst of progress events about ten times a second, not once per event", async () => {
    const { input, output } = terminal();
    let emit: EmitEvent | undefined;
    let finish: (() => void) | undefined;
    const runBootstrap: RunBootstrap = (_repository, e) => {
      emit = e;
      return new Promise((resolve) => (finish = () => resolve(failure("BOOT_FOREIGN_ROOT"))));
    };
    const status = runWizard({ repository: GOOD_URL, runBootstrap, env: { TERM: "xterm" }, input, output });
    await until(() => output.text.includes("1/4 Repository"), "the first screen");
    input.write("\r");
    await until(() => emit !== undefined, "the run");
    const before = output.writes;
    const started = Date.now();
    // 2000 chunks over about 500 ms.
    for (let i = 1; i <= 2000; i++) {
      emit?.({ type: "progress", step: "fetch", url: `${GOOD_URL}/pkg_keys.pem`, received: i * 100, total: 200_000 });
      if (i % 200 === 0) await tick(50);
    }
    await tick(150);
    const seconds = (Date.now() - started) / 1000;
    const redraws = output.writes - before;
    expect(redraws).toBeGreaterThan(0);
    expect(redraws).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
    finish?.();
    await until(() => output.text.includes("Failed step:"), "the failure screen");
    input.write("\x03");
    expect(await status).toBe(EXIT_CANCELLED);
  });

  it("Ctrl-C during a run aborts its signal, declines a pending review and exits 130 once the run has ended", async () => {
    const { input, output } = terminal();
    let signal: AbortSignal | undefined;
    let answer: boolean | undefined;
    const runBootstrap: RunBootstrap = async (_repository, _emit, review, s) => {
      signal = s;
      answer = await review([INTERMEDIATE]);
      return failure("BOOT_DECLINED");
    };
    const status = runWizard({ repository: GOOD_URL, runBootstrap, env: { TERM: "xterm" }, input, output });
    await until(() => output.text.includes("1/4 Repository"), "the first screen");
    input.write("\r");
    await until(() => signal !== undefined, "the run");
    await tick();
    input.write("\x03");
    expect(await status).toBe(EXIT_CANCELLED);
    expect(signal?.aborted).toBe(true);
    // The reason is what the wiring's dispatcher refuses later requests with: a code, not a retryable network error.
    expect(signal?.reason).toHaveProperty("code", "TUI_CANCELLED");
    expect(answer).toBe(false);
  });

  it("a cancelled run is stopped through its signal, so that the pipeline rolls back", async () => {
    const { input, output } = terminal();
    let thrown: unknown;
    let proceed: (() => void) | undefined;
    const runBootstrap: RunBootstrap = async (_repository, emit, _review, signal) => {
      emit({ type: "step-started", step: "write", detail: "/etc/pkg_install.conf" });
      await new Promise<void>((resolve) => (proceed = resolve));
      // runSetup's checkpoints and downloads end with the signal's reason.
      if (signal.aborted) {
        thrown = signal.reason;
        // What runSetup does with it: roll back, then report (these events must get through).
        emit({ type: "rolled-back", files: ["/etc/pkg_install.conf"], notRestored: [] });
        emit({ type: "step-failed", failure: { step: "write", code: "TUI_CANCELLED", message: "the run was cancelled", next: "", unchanged: true } });
      }
      return failure("BOOT_DECLINED");
    };
    const status = runWizard({ repository: GOOD_URL, runBootstrap, env: { TERM: "xterm" }, input, output });
    await until(() => output.text.includes("1/4 Repository"), "the first screen");
    input.write("\r");
    await until(() => proceed !== undefined, "the write step");
    input.write("\x03");
    await tick();
    proceed?.();
    expect(await status).toBe(EXIT_CANCELLED);
    expect(thrown).toHaveProperty("code", "TUI_CANCELLED");
  });

  it("restores the terminal when the pipeline's wiring throws, and passes the error on", async () => {
    const { input, output } = terminal();
    const runBootstrap: RunBootstrap = () => Promise.reject(new Error("cannot read --ca-file"));
    const status = runWizard({ repository: GOOD_URL, runBootstrap, env: { TERM: "xterm" }, input, output });
    await until(() => output.text.includes("1/4 Repository"), "the first screen");
    input.write("\r");
    await expect(status).rejects.toThrow("cannot read --ca-file");
    expect(output.text.slice(-200)).toContain(`${ESC}[?1049l`);
  });
});
