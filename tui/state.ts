/**
 * The wizard's state and its reducer, free of blessed so that every screen transition is
 * unit-tested. The wizard feeds it keys, bootstrap events and the pipeline's outcome, and
 * carries out the effect it returns (start a run, answer the review, cancel, exit).
 */
import { STEPS, type BootstrapEvent, type CertificateSummary, type FailureSummary, type FileOutcome, type Step } from "../src/bootstrap/events.js";
import type { SetupOutcome, SetupResult } from "../src/bootstrap/setup.js";
import { checkRepositoryUrl } from "./url-check.js";

/** Exit status when the user leaves (Ctrl-C, Esc or Quit) before anything was set up: the shell's 128 + SIGINT. */
export const EXIT_CANCELLED = 130;

export type ScreenName = "repository" | "progress" | "review" | "result" | "failure";
export type StepState = "pending" | "running" | "done" | "skipped" | "failed";

export interface Download {
  readonly step: Step;
  readonly url: string;
  readonly received: number;
  readonly total?: number;
  /** Milliseconds, from the clock the wizard passes with each event. */
  readonly startedAt: number;
  /** Bytes per second since the download started; 0 until time has passed. */
  readonly rate: number;
}

/** The download under way (fetch-attempt events): its time so far, attempt and deadline. */
export interface Waiting {
  readonly step: Step;
  readonly url: string;
  readonly attempt: number;
  readonly attempts: number;
  /** Epoch ms: the first attempt's start, and the download's deadline. */
  readonly since: number;
  readonly givesUpAt: number;
  /** Bytes came in this attempt: the download's own line shows them. */
  readonly answered: boolean;
}

export interface WizardState {
  readonly screen: ScreenName;
  readonly url: string;
  readonly cursor: number;
  readonly urlProblem?: string;
  /** Shown under the URL field: how the default was derived. */
  readonly urlNote?: string;
  /** Index of the focused control on the current screen (see FOCUS_COUNT). */
  readonly focus: number;
  readonly steps: Readonly<Record<Step, { readonly state: StepState; readonly detail: string }>>;
  readonly downloads: readonly Download[];
  readonly waiting?: Waiting;
  /** The time of the last event or tick (the wizard ticks while a download waits), epoch ms. */
  readonly clock: number;
  readonly certificates: readonly CertificateSummary[];
  readonly reviewScroll: number;
  readonly files: readonly FileOutcome[];
  readonly rolledBack: boolean;
  readonly result?: SetupResult;
  readonly failure?: FailureSummary;
  readonly failureExit?: number;
  /** A run of the pipeline is under way (until its outcome arrives). */
  readonly running: boolean;
  /** What to do once the cancelled run's outcome arrives: go back to the URL, or quit. */
  readonly cancel?: "back" | "quit";
}

export interface Key {
  /** blessed's full key name: "enter", "C-u", "S-tab", "left", "a", ... */
  readonly name: string;
  /** The character typed, for printable keys. */
  readonly ch?: string;
}

export type Action =
  | { readonly type: "key"; readonly key: Key }
  | { readonly type: "event"; readonly event: BootstrapEvent; readonly at: number }
  | { readonly type: "review-requested"; readonly certificates: readonly CertificateSummary[] }
  | { readonly type: "outcome"; readonly outcome: SetupOutcome }
  /** The clock moved (once a second while a download waits). */
  | { readonly type: "tick"; readonly at: number };

export type Effect =
  | { readonly type: "start"; readonly repository: string }
  | { readonly type: "review"; readonly accepted: boolean }
  /** Stop the run under way: the pipeline rolls back whatever it wrote. */
  | { readonly type: "cancel" }
  | { readonly type: "exit"; readonly status: number };

export interface Update {
  readonly state: WizardState;
  readonly effect?: Effect;
}

/** Focusable controls per screen: Repository = field, Continue, Quit; Review = Accept, Back; Failure = Retry, Change URL, Quit. */
export const FOCUS_COUNT: Readonly<Record<ScreenName, number>> = { repository: 3, progress: 0, review: 2, result: 1, failure: 3 };

const MAX_DOWNLOADS = 6;

function freshSteps(): WizardState["steps"] {
  return Object.fromEntries(STEPS.map((step) => [step, { state: "pending", detail: "" }])) as unknown as WizardState["steps"];
}

export function initialState(url: string, urlNote?: string): WizardState {
  return {
    screen: "repository",
    url,
    cursor: url.length,
    ...(urlNote === undefined ? {} : { urlNote }),
    focus: 0,
    steps: freshSteps(),
    downloads: [],
    clock: 0,
    certificates: [],
    reviewScroll: 0,
    files: [],
    rolledBack: false,
    running: false,
  };
}

export function update(state: WizardState, action: Action): Update {
  switch (action.type) {
    case "key":
      return onKey(state, action.key);
    case "event":
      return { state: { ...onEvent(state, action.event, action.at), clock: action.at } };
    case "tick":
      return { state: { ...state, clock: action.at } };
    case "review-requested":
      // A cancelled run answers the review itself (the wizard declines it); never show it.
      if (state.cancel) return { state, effect: { type: "review", accepted: false } };
      return { state: { ...state, screen: "review", certificates: action.certificates, reviewScroll: 0, focus: 0 } };
    case "outcome":
      return onOutcome(state, action.outcome);
  }
}

function onOutcome(state: WizardState, outcome: SetupOutcome): Update {
  const done = { ...state, running: false, cancel: undefined };
  if (outcome.ok) {
    // A cancel that came after the last step could not stop it: the system is set up.
    if (state.cancel === "quit") return { state: done, effect: { type: "exit", status: 0 } };
    return { state: { ...done, screen: "result", result: outcome.result, focus: 0 } };
  }
  if (state.cancel === "quit") return { state: done, effect: { type: "exit", status: EXIT_CANCELLED } };
  if (state.cancel === "back") return { state: { ...done, screen: "repository", focus: 0 } };
  return { state: { ...done, screen: "failure", failure: outcome.failure, failureExit: outcome.error.exit, focus: 0 } };
}

function onEvent(state: WizardState, event: BootstrapEvent, at: number): WizardState {
  const setStep = (step: Step, stepState: StepState, detail?: string) => ({
    ...state.steps,
    [step]: { state: stepState, detail: detail ?? state.steps[step].detail },
  });
  switch (event.type) {
    case "step-started":
      return { ...state, steps: setStep(event.step, "running", event.detail) };
    case "step-finished":
      return { ...withoutWaiting(state), steps: setStep(event.step, "done", event.summary) };
    case "step-skipped":
      return { ...state, steps: setStep(event.step, "skipped", event.reason) };
    case "step-failed":
      return { ...withoutWaiting(state), steps: setStep(event.failure.step, "failed", event.failure.message) };
    case "certificate-reviewed":
      return { ...state, certificates: [...state.certificates, event.certificate] };
    case "file-written":
      return { ...state, files: [...state.files, event.file] };
    case "rolled-back":
      return { ...state, rolledBack: true };
    case "notice":
      return state;
    case "progress": {
      const { waiting } = state;
      const answered = waiting !== undefined && !waiting.answered && event.received > 0 && waiting.url === event.url;
      return { ...state, ...(answered ? { waiting: { ...waiting, answered } } : {}), downloads: onProgress(state.downloads, event, at) };
    }
    case "fetch-attempt": {
      const same = state.waiting?.url === event.url && state.waiting.step === event.step;
      const since = same && state.waiting ? state.waiting.since : at;
      return { ...state, waiting: { step: event.step, url: event.url, attempt: event.attempt, attempts: event.attempts, since, givesUpAt: event.givesUpAt, answered: false } };
    }
  }
}

function withoutWaiting(state: WizardState): WizardState {
  const { waiting: _waiting, ...rest } = state;
  return rest;
}

function onProgress(downloads: readonly Download[], event: Extract<BootstrapEvent, { type: "progress" }>, at: number): Download[] {
  const last = downloads.at(-1);
  // The fetcher reports one event per chunk; a new URL, or the same one restarting, is a new download.
  const same = last !== undefined && last.url === event.url && last.step === event.step && event.received >= last.received;
  const startedAt = same ? last.startedAt : at;
  const seconds = (at - startedAt) / 1000;
  const entry: Download = {
    step: event.step,
    url: event.url,
    received: event.received,
    ...(event.total === undefined ? {} : { total: event.total }),
    startedAt,
    rate: seconds > 0 ? event.received / seconds : 0,
  };
  const kept = same ? downloads.slice(0, -1) : downloads;
  return [...kept, entry].slice(-MAX_DOWNLOADS);
}

function isEnter(key: Key): boolean {
  return key.name === "enter" || key.name === "linefeed";
}

function moveFocus(state: WizardState, delta: number): WizardState {
  const count = FOCUS_COUNT[state.screen];
  return count === 0 ? state : { ...state, focus: (state.focus + delta + count) % count };
}

function onKey(state: WizardState, key: Key): Update {
  if (key.name === "C-c") {
    // After a successful run there is nothing left to cancel: the system is set up.
    if (!state.running) return { state, effect: { type: "exit", status: state.screen === "result" ? 0 : EXIT_CANCELLED } };
    if (state.cancel === "quit") return { state };
    return { state: { ...state, cancel: "quit" }, effect: { type: "cancel" } };
  }
  if (key.name === "tab") return { state: moveFocus(state, 1) };
  if (key.name === "S-tab") return { state: moveFocus(state, -1) };
  switch (state.screen) {
    case "repository":
      return repositoryKey(state, key);
    case "progress":
      if (key.name === "escape" && state.running && !state.cancel) return { state: { ...state, cancel: "back" }, effect: { type: "cancel" } };
      return { state };
    case "review":
      return reviewKey(state, key);
    case "result":
      return isEnter(key) || key.name === "escape" ? { state, effect: { type: "exit", status: 0 } } : { state };
    case "failure":
      return failureKey(state, key);
  }
}

function start(state: WizardState): Update {
  const check = checkRepositoryUrl(state.url);
  if (!check.ok) return { state: { ...state, urlProblem: check.problem, focus: 0 } };
  const { urlProblem: _cleared, result: _result, failure: _failure, ...rest } = state;
  return {
    state: { ...rest, screen: "progress", steps: freshSteps(), downloads: [], certificates: [], files: [], rolledBack: false, running: true, focus: 0 },
    effect: { type: "start", repository: check.repository },
  };
}

function repositoryKey(state: WizardState, key: Key): Update {
  if (key.name === "escape") return { state, effect: { type: "exit", status: EXIT_CANCELLED } };
  if (isEnter(key)) return state.focus === 2 ? { state, effect: { type: "exit", status: EXIT_CANCELLED } } : start(state);
  if (key.name === "down") return { state: { ...state, focus: state.focus === 0 ? 1 : state.focus } };
  if (key.name === "up") return { state: { ...state, focus: 0 } };
  if (state.focus !== 0) {
    if (key.name === "left" || key.name === "right") return { state: { ...state, focus: key.name === "left" ? 1 : 2 } };
    return { state };
  }
  return { state: editField(state, key) };
}

/** The editing keys a terminal field is expected to have (readline's subset). */
function editField(state: WizardState, key: Key): WizardState {
  const { url, cursor } = state;
  const edited = (text: string, at: number): WizardState => {
    const { urlProblem: _problem, ...rest } = state;
    return { ...rest, url: text, cursor: at };
  };
  switch (key.name) {
    case "left":
    case "C-b":
      return { ...state, cursor: Math.max(0, cursor - 1) };
    case "right":
    case "C-f":
      return { ...state, cursor: Math.min(url.length, cursor + 1) };
    case "home":
    case "C-a":
      return { ...state, cursor: 0 };
    case "end":
    case "C-e":
      return { ...state, cursor: url.length };
    case "backspace":
    case "C-h":
      return cursor === 0 ? state : edited(url.slice(0, cursor - 1) + url.slice(cursor), cursor - 1);
    case "delete":
    case "C-d":
      return cursor === url.length ? state : edited(url.slice(0, cursor) + url.slice(cursor + 1), cursor);
    case "C-u":
      return edited("", 0);
    case "C-k":
      return edited(url.slice(0, cursor), cursor);
  }
  const ch = key.ch;
  // Printable characters only; a pasted run arrives as one key per character.
  if (ch !== undefined && ch.length === 1 && ch >= " " && ch !== "\x7f" && !key.name.startsWith("C-") && !key.name.startsWith("M-")) {
    return edited(url.slice(0, cursor) + ch + url.slice(cursor), cursor + 1);
  }
  return state;
}

function reviewKey(state: WizardState, key: Key): Update {
  if (key.name === "escape") return { state: { ...state, screen: "progress", cancel: "back" }, effect: { type: "review", accepted: false } };
  if (isEnter(key)) {
    const accepted = state.focus === 0;
    return { state: { ...state, screen: "progress", ...(accepted ? {} : { cancel: "back" as const }) }, effect: { type: "review", accepted } };
  }
  if (key.name === "left" || key.name === "right") return { state: moveFocus(state, 1) };
  // The list scrolls by whole certificates: the renderer shows as many as fit from reviewScroll on.
  const scroll = { up: -1, down: 1, pageup: -3, pagedown: 3, home: -Infinity, end: Infinity }[key.name];
  if (scroll !== undefined) {
    const last = Math.max(0, state.certificates.length - 1);
    return { state: { ...state, reviewScroll: Math.min(last, Math.max(0, state.reviewScroll + scroll)) } };
  }
  return { state };
}

function failureKey(state: WizardState, key: Key): Update {
  if (key.name === "escape") return { state: { ...state, screen: "repository", focus: 0 } };
  if (key.name === "left" || key.name === "up") return { state: moveFocus(state, -1) };
  if (key.name === "right" || key.name === "down") return { state: moveFocus(state, 1) };
  if (!isEnter(key)) return { state };
  if (state.focus === 0) return start(state);
  if (state.focus === 1) return { state: { ...state, screen: "repository", focus: 0 } };
  return { state, effect: { type: "exit", status: state.failureExit ?? 1 } };
}
