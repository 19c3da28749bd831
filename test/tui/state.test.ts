import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/errors.js";
import { EXIT_CANCELLED, failureChoices, initialState, update, type Action, type Effect, type WizardState } from "../../tui/state.js";
import { EXPIRED, GOOD_URL, INTERMEDIATE, SUCCESS, certificate, failure } from "./samples.js";

/** Applies actions in turn; returns the last state and every effect asked for. */
function play(state: WizardState, ...actions: Action[]): { state: WizardState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const action of actions) {
    const next = update(state, action);
    state = next.state;
    if (next.effect) effects.push(next.effect);
  }
  return { state, effects };
}
const key = (name: string, ch?: string): Action => ({ type: "key", key: { name, ...(ch === undefined ? {} : { ch }) } });
const typed = (text: string): Action[] => [...text].map((ch) => key(ch, ch));

/** A run that reached the key review. */
function atReview(): WizardState {
  return play(initialState(GOOD_URL), key("enter"), { type: "review-requested", certificates: [INTERMEDIATE, certificate(), EXPIRED] }).state;
}

describe("the URL field", () => {
  it("starts with the given URL, the cursor at its end, the field focused", () => {
    const state = initialState(GOOD_URL, "Default for this system, NetBSD 10.1/amd64.");
    expect(state).toMatchObject({ screen: "repository", url: GOOD_URL, cursor: GOOD_URL.length, focus: 0, running: false, urlNote: "Default for this system, NetBSD 10.1/amd64." });
  });

  it("edits like a terminal field: arrows, Home/End, Backspace, Delete, Ctrl-U, Ctrl-K", () => {
    let { state } = play(initialState("http://b/x"), key("home"), ...typed("X"));
    expect(state).toMatchObject({ url: "Xhttp://b/x", cursor: 1 });
    state = play(state, key("backspace")).state;
    expect(state).toMatchObject({ url: "http://b/x", cursor: 0 });
    state = play(state, key("backspace"), key("left")).state;
    expect(state).toMatchObject({ url: "http://b/x", cursor: 0 });
    state = play(state, key("right"), key("right"), key("right"), key("right"), key("delete"), ...typed("s:")).state;
    expect(state).toMatchObject({ url: "https://b/x", cursor: 6 });
    state = play(state, key("end"), key("right"), key("delete")).state;
    expect(state).toMatchObject({ url: "https://b/x", cursor: 11 });
    state = play(state, key("C-a"), key("C-f"), key("C-k")).state;
    expect(state).toMatchObject({ url: "h", cursor: 1 });
    state = play(state, key("C-e"), key("C-u")).state;
    expect(state).toMatchObject({ url: "", cursor: 0 });
  });

  it("inserts printable characters only", () => {
    const { state } = play(initialState(""), key("C-x"), key("M-a", "a"), key("escape-not", "\x1b"), key("S-a", "A"), key("space", " "), key("/", "/"));
    expect(state.url).toBe("A /");
  });

  it("shows the problem of a bad URL and stays; an edit clears it; a good URL starts the run", () => {
    let { state, effects } = play(initialState("ftp://ftp.NetBSD.org/pub/All"), key("enter"));
    expect(state.screen).toBe("repository");
    expect(state.urlProblem).toMatch(/not ftp/);
    expect(effects).toEqual([]);
    state = play(state, key("C-u")).state;
    expect(state.urlProblem).toBeUndefined();
    ({ state, effects } = play(state, ...typed(` ${GOOD_URL} `), key("enter")));
    expect(state).toMatchObject({ screen: "progress", running: true });
    expect(effects).toEqual([{ type: "start", repository: GOOD_URL }]);
  });

  it("Tab and Shift-Tab move between the field, Continue and Quit; Quit leaves with 130", () => {
    const start = initialState(GOOD_URL);
    expect(play(start, key("tab")).state.focus).toBe(1);
    expect(play(start, key("tab"), key("tab"), key("tab")).state.focus).toBe(0);
    expect(play(start, key("S-tab")).state.focus).toBe(2);
    expect(play(start, key("tab"), key("enter")).effects).toEqual([{ type: "start", repository: GOOD_URL }]);
    expect(play(start, key("S-tab"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    // Typing with a button focused changes nothing.
    expect(play(start, key("tab"), ...typed("zz")).state.url).toBe(GOOD_URL);
  });
});

describe("Esc on the Repository screen", () => {
  it("asks before quitting: Stay is the default, Quit (or y) leaves with 130, Esc (or n) stays", () => {
    const asked = play(initialState(GOOD_URL), key("escape"));
    expect(asked.effects).toEqual([]);
    expect(asked.state).toMatchObject({ screen: "repository", confirmQuit: true, focus: 0 });
    expect(play(asked.state, key("enter")).state).toMatchObject({ confirmQuit: false, focus: 0 });
    expect(play(asked.state, key("escape")).state).toMatchObject({ confirmQuit: false });
    expect(play(asked.state, key("n", "n")).effects).toEqual([]);
    expect(play(asked.state, key("right"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    expect(play(asked.state, key("tab"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    expect(play(asked.state, key("y", "y")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    // The question takes the keys: nothing is typed into the URL meanwhile.
    expect(play(asked.state, ...typed("abc")).state.url).toBe(GOOD_URL);
  });
});

describe("the progress screen", () => {
  const running = () => play(initialState(GOOD_URL), key("enter")).state;

  it("follows the steps from the events", () => {
    const { state } = play(
      running(),
      { type: "event", at: 0, event: { type: "step-started", step: "fetch", detail: "pkg_keys.pem" } },
      { type: "event", at: 0, event: { type: "step-finished", step: "fetch", summary: "1259 bytes" } },
      { type: "event", at: 0, event: { type: "step-started", step: "verify", detail: "against the anchor" } },
    );
    expect(state.steps).toMatchObject({ fetch: { state: "done", detail: "1259 bytes" }, verify: { state: "running" }, write: { state: "pending" } });
  });

  it("keeps one entry per download with its rate; a restart is a new download; six at most", () => {
    const progress = (url: string, received: number, at: number, total?: number): Action => ({
      type: "event",
      at,
      event: { type: "progress", step: "fetch", url, received, ...(total === undefined ? {} : { total }) },
    });
    let { state } = play(running(), progress("u1", 100, 1000, 4000), progress("u1", 2100, 2000, 4000), progress("u1", 4000, 3000, 4000));
    expect(state.downloads).toEqual([{ step: "fetch", url: "u1", received: 4000, total: 4000, startedAt: 1000, rate: 2000 }]);
    state = play(state, progress("u1", 10, 3500)).state;
    expect(state.downloads).toHaveLength(2);
    expect(state.downloads[1]).toMatchObject({ received: 10, rate: 0, startedAt: 3500 });
    state = play(state, ...[2, 3, 4, 5, 6, 7].map((n) => progress(`u${n}`, 1, 4000))).state;
    expect(state.downloads.map((d) => d.url)).toEqual(["u2", "u3", "u4", "u5", "u6", "u7"]);
  });

  it("Esc stops the run and returns to the URL once it has ended", () => {
    let { state, effects } = play(running(), key("escape"));
    expect(effects).toEqual([{ type: "cancel" }]);
    expect(state.cancel).toBe("back");
    ({ state, effects } = play(state, { type: "outcome", outcome: failure("BOOT_DECLINED") }));
    expect(state).toMatchObject({ screen: "repository", running: false });
    expect(state.cancel).toBeUndefined();
    expect(effects).toEqual([]);
  });
});

describe("the key review", () => {
  it("shows the certificates with Accept focused; Enter accepts and the run goes on", () => {
    let state = atReview();
    expect(state).toMatchObject({ screen: "review", focus: 0, reviewScroll: 0 });
    expect(state.certificates).toHaveLength(3);
    const next = play(state, key("enter"));
    state = next.state;
    expect(next.effects).toEqual([{ type: "review", accepted: true }]);
    expect(state.screen).toBe("progress");
    expect(play(state, { type: "outcome", outcome: SUCCESS }).state).toMatchObject({ screen: "result", result: SUCCESS.ok ? SUCCESS.result : undefined });
  });

  it("Back (Right, Enter) or Esc declines and, once the pipeline has answered, shows the URL again", () => {
    for (const keys of [[key("right"), key("enter")], [key("tab"), key("enter")], [key("escape")]]) {
      const { state, effects } = play(atReview(), ...keys);
      expect(effects).toEqual([{ type: "review", accepted: false }]);
      expect(play(state, { type: "outcome", outcome: failure("BOOT_DECLINED") }).state.screen).toBe("repository");
    }
  });

  it("scrolls by certificate, within the list", () => {
    const state = atReview();
    expect(play(state, key("down")).state.reviewScroll).toBe(1);
    expect(play(state, key("down"), key("down"), key("down"), key("down")).state.reviewScroll).toBe(2);
    expect(play(state, key("end"), key("up")).state.reviewScroll).toBe(1);
    expect(play(state, key("pagedown"), key("home")).state.reviewScroll).toBe(0);
    expect(play(state, key("up")).state.reviewScroll).toBe(0);
  });
});

describe("result and failure", () => {
  const failed = () => play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: failure("BOOT_FOREIGN_ROOT") }).state;

  it("the result exits 0 on Enter", () => {
    const { state } = play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: SUCCESS });
    expect(play(state, key("enter")).effects).toEqual([{ type: "exit", status: 0 }]);
  });

  it("a failure of an unusable repository offers another repository or no binary packages (the failure's status)", () => {
    const state = failed();
    expect(state).toMatchObject({ screen: "failure", failureExit: EXIT.UNTRUSTED, focus: 0, running: false });
    expect(state.failure).toMatchObject({ step: "verify", code: "BOOT_FOREIGN_ROOT", unchanged: true });
    expect(failureChoices(state.failure)).toEqual(["change-url", "no-packages"]);
    expect(failureChoices({ ...(state.failure as NonNullable<WizardState["failure"]>), code: "BOOT_NO_KEY_BUNDLE" })).toEqual(["change-url", "no-packages"]);
    expect(play(state, key("enter")).state).toMatchObject({ screen: "repository", focus: 0 });
    expect(play(state, key("right"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT.UNTRUSTED }]);
    expect(play(state, key("escape")).state.screen).toBe("repository");
  });

  it("any other failure offers Retry (the same URL), Change URL and Quit (130, or the failure's status when files were not put back)", () => {
    const state = play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: failure("BOOT_DECLINED") }).state;
    expect(failureChoices(state.failure)).toEqual(["retry", "change-url", "quit"]);
    const retry = play(state, key("enter"));
    expect(retry.effects).toEqual([{ type: "start", repository: GOOD_URL }]);
    expect(retry.state).toMatchObject({ screen: "progress", running: true, certificates: [], files: [] });
    expect(retry.state.failure).toBeUndefined();
    expect(play(state, key("tab"), key("enter")).state).toMatchObject({ screen: "repository", focus: 0 });
    expect(play(state, key("escape")).state.screen).toBe("repository");
    expect(play(state, key("left"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    const changed = play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: failure("BOOT_DECLINED", false) }).state;
    expect(play(changed, key("left"), key("enter")).effects).toEqual([{ type: "exit", status: EXIT.USAGE }]);
  });
});

describe("Ctrl-C", () => {
  it("leaves at once with 130 when nothing runs, and with 0 from the result", () => {
    expect(play(initialState(GOOD_URL), key("C-c")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    const failedState = play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: failure("BOOT_FOREIGN_ROOT") }).state;
    expect(play(failedState, key("C-c")).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    const done = play(initialState(GOOD_URL), key("enter"), { type: "outcome", outcome: SUCCESS }).state;
    expect(play(done, key("C-c")).effects).toEqual([{ type: "exit", status: 0 }]);
  });

  it("during a run cancels it, waits for its outcome (the rollback), then exits 130", () => {
    for (const state of [play(initialState(GOOD_URL), key("enter")).state, atReview()]) {
      const cancelled = play(state, key("C-c"), key("C-c"));
      expect(cancelled.effects).toEqual([{ type: "cancel" }]);
      expect(cancelled.state.cancel).toBe("quit");
      expect(play(cancelled.state, { type: "outcome", outcome: failure("BOOT_DECLINED") }).effects).toEqual([{ type: "exit", status: EXIT_CANCELLED }]);
    }
  });

  it("declines a review the cancelled run still asks for, and reports a run that finished anyway as 0", () => {
    const cancelled = play(initialState(GOOD_URL), key("enter"), key("C-c")).state;
    expect(update(cancelled, { type: "review-requested", certificates: [INTERMEDIATE] })).toEqual({ state: cancelled, effect: { type: "review", accepted: false } });
    expect(play(cancelled, { type: "outcome", outcome: SUCCESS }).effects).toEqual([{ type: "exit", status: 0 }]);
  });
});
