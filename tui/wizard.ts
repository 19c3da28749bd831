/**
 * The installer wizard: blessed draws the screens of screens.ts and reads the keys; the
 * reducer in state.ts decides; the bootstrap pipeline, injected as `runBootstrap`, does all
 * fetching and writing. blessed is imported here only, when the wizard runs.
 */
import type { BootstrapEvent, CertificateSummary, EmitEvent } from "../src/bootstrap/events.js";
import type { SetupOutcome } from "../src/bootstrap/setup.js";
import { TuiError } from "./errors.js";
import { renderScreen, type Borders, type Line } from "./screens.js";
import { initialState, update, type Action, type Effect, type WizardState } from "./state.js";

/**
 * One run of the pipeline. `review` is called after verification, before anything is
 * written; `signal` aborts when the user cancels, its reason a TuiError (downloads in flight
 * should stop, and no new one start).
 */
export type RunBootstrap = (
  repository: string,
  emit: EmitEvent,
  review: (certificates: readonly CertificateSummary[]) => Promise<boolean>,
  signal: AbortSignal,
) => Promise<SetupOutcome>;

export interface WizardOptions {
  /** The URL the field starts with: --repo, else the derived default. */
  readonly repository: string;
  /** How the default was derived, shown under the field. */
  readonly note?: string;
  readonly runBootstrap: RunBootstrap;
  readonly env: NodeJS.ProcessEnv;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

/** At most ten redraws a second for progress: the fetcher reports every chunk. */
const REDRAW_MS = 100;

/** The events of a run going forward; the failure and rollback reports must always get through. */
const FORWARD_EVENTS = new Set<BootstrapEvent["type"]>(["step-started", "progress", "fetch-attempt", "certificate-reviewed", "file-written", "step-finished", "step-skipped"]);

/** NO_COLOR (no-color.org): present and not empty turns colour off. */
export function colourAllowed(env: NodeJS.ProcessEnv, colours: number): boolean {
  return (env.NO_COLOR === undefined || env.NO_COLOR === "") && colours >= 8;
}

/** blessed tags for a line; user text is escaped so that "{" in a URL stays text. */
function tagged(line: Line, colour: boolean): string {
  const escape = (text: string) => text.replace(/[{}]/g, (c) => (c === "{" ? "{open}" : "{close}"));
  return line
    .map(({ text, style }) => {
      const body = escape(text);
      if (style === "inverse" || style === "bold") return `{${style}}${body}{/${style}}`;
      if (style === "bad") return colour ? `{red-fg}{bold}${body}{/bold}{/red-fg}` : `{bold}${body}{/bold}`;
      if (style === "good") return colour ? `{green-fg}${body}{/green-fg}` : body;
      return body;
    })
    .join("");
}

/** Runs the wizard until the user leaves it; returns the exit status (state.ts EXIT_CANCELLED for Ctrl-C). */
export async function runWizard(options: WizardOptions): Promise<number> {
  const { default: blessed } = await import("blessed");
  const env = options.env;
  const screen = blessed.screen({
    input: (options.input ?? process.stdin) as never,
    output: (options.output ?? process.stdout) as never,
    terminal: env.TERM || "vt100",
    smartCSR: true,
    fullUnicode: false,
    warnings: false,
    autoPadding: false,
    // No title: blessed would send an xterm OSC sequence, which a console may print.
  });
  // blessed's typings leave out the terminfo it read.
  const { tput } = screen as unknown as {
    tput: { strings: Record<string, string | undefined>; numbers: Record<string, number | undefined>; brokenACS?: boolean; unicode?: boolean };
  };
  // Line drawing through the alternate character set (vt100's acsc) or UTF-8; plain ASCII otherwise.
  const lineDrawing = (Boolean(tput.strings.enter_alt_charset_mode) && Boolean(tput.strings.acs_chars) && !tput.brokenACS) || tput.unicode === true;
  const borders: Borders = lineDrawing ? "line" : "ascii";
  const colour = colourAllowed(env, tput.numbers.max_colors ?? 0);
  const view = blessed.box({ parent: screen, top: 0, left: 0, width: "100%", height: "100%", tags: true, wrap: false });
  screen.program.hideCursor();

  let state: WizardState = initialState(options.repository, options.note);
  let timer: NodeJS.Timeout | undefined;
  let lastDraw = 0;
  /** Set once the terminal is given back: nothing may draw after that. */
  let closed = false;
  let run: { controller: AbortController; cancelled: boolean; review?: (accepted: boolean) => void; done: Promise<unknown> } | undefined;
  let settle: { resolve(status: number): void; reject(error: unknown): void } | undefined;
  const result = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));

  const draw = () => {
    clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    lastDraw = Date.now();
    const lines = renderScreen(state, { width: screen.width as number, height: screen.height as number }, borders);
    view.setContent(lines.map((line) => tagged(line, colour)).join("\n"));
    screen.render();
  };
  const drawSoon = () => {
    if (timer === undefined) timer = setTimeout(draw, Math.max(0, lastDraw + REDRAW_MS - Date.now()));
  };

  const dispatch = (action: Action) => {
    const before = state.screen;
    const next = update(state, action);
    state = next.state;
    if (next.effect) perform(next.effect);
    // Keys and screen changes show at once; the stream of progress events is throttled.
    if (action.type === "event" && state.screen === before) drawSoon();
    else draw();
  };

  const perform = (effect: Effect) => {
    switch (effect.type) {
      case "start":
        return start(effect.repository);
      case "review":
        return answerReview(effect.accepted);
      case "cancel":
        return cancel();
      case "exit":
        return settle?.resolve(effect.status);
    }
  };

  const answerReview = (accepted: boolean) => {
    const answer = run?.review;
    if (run) delete run.review;
    answer?.(accepted);
  };

  const cancel = () => {
    if (!run) return;
    run.cancelled = true;
    // The reason is the run's failure: downloads in flight end with it, and the run rolls back.
    run.controller.abort(new TuiError("TUI_CANCELLED", "the run was cancelled"));
    answerReview(false);
  };

  const start = (repository: string) => {
    const current: NonNullable<typeof run> = { controller: new AbortController(), cancelled: false, done: Promise.resolve() };
    run = current;
    const emit: EmitEvent = (event) => {
      // A cancelled run is stopping through its signal; only its failure and rollback still show.
      if (current.cancelled && FORWARD_EVENTS.has(event.type)) return;
      dispatch({ type: "event", event, at: Date.now() });
    };
    const review = (certificates: readonly CertificateSummary[]) =>
      new Promise<boolean>((resolve) => {
        current.review = resolve;
        dispatch({ type: "review-requested", certificates });
      });
    current.done = options
      .runBootstrap(repository, emit, review, current.controller.signal)
      .then((outcome) => {
        run = undefined;
        dispatch({ type: "outcome", outcome });
      })
      .catch((error: unknown) => {
        run = undefined;
        settle?.reject(error);
      });
  };

  // Ctrl-C arrives as a key in raw mode; signals from outside take the same way out.
  const interrupt = () => dispatch({ type: "key", key: { name: "C-c" } });
  const restore = () => {
    closed = true;
    clearTimeout(timer);
    screen.destroy();
  };
  const crash = (error: unknown) => {
    if (!closed) restore();
    // Let a run under way roll back before reporting the bug.
    cancel();
    void (run?.done ?? Promise.resolve()).then(() => settle?.reject(error));
  };
  // While a download waits for an answer, its elapsed time and deadline move once a second.
  const ticker = setInterval(() => state.waiting && dispatch({ type: "tick", at: Date.now() }), 1000);
  ticker.unref();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, interrupt);
  process.on("uncaughtException", crash);
  screen.on("keypress", (ch: string | undefined, key: { full?: string; name?: string } | undefined) => {
    const name = key?.full ?? key?.name ?? ch ?? "";
    // blessed reports Return twice ("enter", then "return"); the reducer takes "enter".
    if (name === "return" || name === "") return;
    dispatch({ type: "key", key: { name, ...(ch === undefined ? {} : { ch }) } });
  });
  screen.on("resize", draw);

  try {
    draw();
    return await result;
  } finally {
    clearInterval(ticker);
    for (const signal of signals) process.removeListener(signal, interrupt);
    process.removeListener("uncaughtException", crash);
    if (!closed) restore();
  }
}
