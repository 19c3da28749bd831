/**
 * The five screens as text, a pure function of the state and the terminal size: the
 * wizard hands the lines to blessed, the tests read them. Nothing here depends on colour:
 * styles only add emphasis (the focused button is also marked "> Accept <").
 */
import { forgottenNotice } from "../src/bootstrap/recorded-state.js";
import { STEPS, STEP_TITLES, type CertificateSummary } from "../src/bootstrap/events.js";
import { formatBytes, shortDuration } from "../src/format.js";
import { failureChoices, type Download, type FailureChoice, type ScreenName, type StepState, type Waiting, type WizardState } from "./state.js";
import { day, fingerprintLines, labelled, pathLines, shorten, wrap } from "./text.js";

export type Style = "inverse" | "bold" | "good" | "bad";
export interface Segment {
  readonly text: string;
  readonly style?: Style;
}
export type Line = readonly Segment[];

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Line drawing: blessed maps the Unicode box characters to the terminal's alternate character set. */
export type Borders = "line" | "ascii";

export const MIN_SIZE: Size = { width: 50, height: 20 };

const TITLES: Readonly<Record<ScreenName, string>> = {
  repository: "1/4 Repository",
  progress: "2/4 Progress",
  review: "3/4 Key review",
  result: "4/4 Done",
  failure: "Failed",
};

const HELP: Readonly<Record<ScreenName, string>> = {
  repository: "Enter continue  Tab next  Ctrl-U clear  Esc quit  Ctrl-C quit",
  progress: "Esc stop and go back  Ctrl-C quit  (nothing is kept from a stopped run)",
  review: "Enter choose  Tab/Left/Right switch  Up/Down scroll  Esc back  Ctrl-C quit",
  result: "Enter exit",
  failure: "Enter choose  Tab/Left/Right switch  Esc change URL  Ctrl-C quit",
};

const plain = (text: string): Line => [{ text }];
/** A paragraph wrapped to the width, one Line per row. */
const para = (text: string, width: number): Line[] => wrap(text, width).map(plain);
const BLANK: Line = [];

function buttons(labels: readonly string[], focus: number): Line {
  const line: Segment[] = [];
  labels.forEach((label, i) => {
    if (i > 0) line.push({ text: "   " });
    line.push(i === focus ? { text: `> ${label} <`, style: "inverse" } : { text: `[ ${label} ]` });
  });
  return line;
}

/** The whole screen, framed, exactly `size.height` lines of at most `size.width` columns. */
export function renderScreen(state: WizardState, size: Size, borders: Borders): Line[] {
  const { width, height } = size;
  if (width < MIN_SIZE.width || height < MIN_SIZE.height) {
    const text = wrap(`The terminal is ${width}x${height}: make it at least ${MIN_SIZE.width}x${MIN_SIZE.height}, or press Ctrl-C to quit.`, Math.max(1, width));
    return Array.from({ length: height }, (_, i) => plain(text[i] ?? ""));
  }
  const inner = width - 4;
  const rows = height - 3;
  const body = screenBody(state, inner, rows).slice(0, rows);
  const box = borders === "line" ? { tl: "┌", tr: "┐", bl: "└", br: "┘", h: "─", v: "│" } : { tl: "+", tr: "+", bl: "+", br: "+", h: "-", v: "|" };
  const title = ` pkgtrust setup `;
  const where = ` ${TITLES[state.screen]} `;
  const fill = Math.max(0, width - 2 - 1 - title.length - where.length - 1);
  const lines: Line[] = [[{ text: box.tl + box.h }, { text: title, style: "bold" }, { text: box.h.repeat(fill) }, { text: where, style: "bold" }, { text: box.h + box.tr }]];
  for (let i = 0; i < rows; i++) {
    const line = body[i] ?? BLANK;
    const used = line.reduce((n, segment) => n + segment.text.length, 0);
    lines.push([{ text: `${box.v} ` }, ...line, { text: `${" ".repeat(Math.max(0, inner - used))} ${box.v}` }]);
  }
  lines.push([{ text: box.bl + box.h.repeat(width - 2) + box.br }]);
  const help = state.screen === "repository" && state.confirmQuit ? "Enter choose  Left/Right switch  y quit  n or Esc stay" : HELP[state.screen];
  lines.push(plain(` ${shorten(help, width - 2)}`));
  return lines;
}

/** The text of a rendered screen, as `tmux capture-pane` would show it with ASCII borders. */
export function screenText(lines: readonly Line[]): string {
  return lines.map((line) => line.map((segment) => segment.text).join("").trimEnd()).join("\n");
}

function screenBody(state: WizardState, width: number, rows: number): Line[] {
  switch (state.screen) {
    case "repository":
      return repositoryBody(state, width, rows);
    case "progress":
      return progressBody(state, width);
    case "review":
      return reviewBody(state, width, rows);
    case "result":
      return resultBody(state, width, rows);
    case "failure":
      return failureBody(state, width, rows);
  }
}

/** Pads the body so that the buttons sit on the last row, a blank row above them when there is room. */
function withButtons(body: Line[], buttonLine: Line, rows: number): Line[] {
  if (body.length === rows - 1) return [...body, buttonLine];
  const room = rows - 2;
  const kept = body.slice(0, room);
  while (kept.length < room) kept.push(BLANK);
  return [...kept, BLANK, buttonLine];
}

function repositoryBody(state: WizardState, width: number, rows: number): Line[] {
  const body: Line[] = [BLANK, ...para("Fetches this repository's keys, verifies them, then configures pkg_install.", width)];
  body.push(BLANK, plain("Package repository URL (or absolute path):"));
  body.push(field(state, width));
  if (state.urlProblem !== undefined) for (const line of labelled("! ", state.urlProblem, width)) body.push([{ text: line, style: "bad" }]);
  if (state.urlNote !== undefined) body.push(...para(state.urlNote, width));
  if (state.confirmQuit) {
    const question = wrap("Quit without setting anything up? Nothing has been changed.", width).map((text): Line => [{ text, style: "bold" }]);
    const kept = body.slice(0, Math.max(0, rows - 2 - question.length));
    return withButtons([...kept, ...question], buttons(["Stay", "Quit"], state.focus), rows);
  }
  return withButtons(body, buttons(["Continue", "Quit"], state.focus - 1), rows);
}

/** The URL field, "[text ]", scrolled so that the cursor shows; the cursor is a reversed cell when focused. */
function field(state: WizardState, width: number): Line {
  const room = width - 2;
  const { url, cursor } = state;
  const start = Math.max(0, cursor - room + 1);
  const visible = url.slice(start, start + room).padEnd(room);
  const at = cursor - start;
  if (state.focus !== 0) return [{ text: `[${visible}]` }];
  return [
    { text: `[${visible.slice(0, at)}` },
    { text: visible[at] ?? " ", style: "inverse" },
    { text: `${visible.slice(at + 1)}]` },
  ];
}

const MARKS: Readonly<Record<StepState, string>> = { pending: "[    ]", running: "[ .. ]", done: "[ ok ]", skipped: "[skip]", failed: "[FAIL]" };

function progressBody(state: WizardState, width: number): Line[] {
  const body: Line[] = [...labelled("Repository: ", state.url.trim(), width).slice(0, 2).map(plain), BLANK];
  for (const step of STEPS) {
    const { state: stepState, detail } = state.steps[step];
    const style = stepState === "failed" ? "bad" : stepState === "done" ? "good" : stepState === "running" ? "bold" : undefined;
    body.push([{ text: MARKS[stepState], ...(style ? { style } : {}) }, { text: ` ${STEP_TITLES[step]}` }]);
    body.push(plain(detail === "" ? "" : `       ${shorten(detail, width - 7)}`));
  }
  body.push(BLANK);
  const downloads = state.downloads.slice(-3);
  body.push(plain(downloads.length === 0 ? "Downloads: none yet" : "Downloads:"));
  for (const download of downloads) body.push(...downloadLines(download, state.url.trim(), width));
  if (state.waiting) body.push(...waitingLines(state.waiting, state.clock, state.url.trim(), width));
  if (state.cancel !== undefined) {
    body.push(BLANK, [{ text: shorten("Stopping: waiting for the run to end and put back anything it wrote...", width), style: "bold" }]);
  }
  return body;
}

/** Files of the repository by their name; the repository is on the first line of the screen. */
function fileName(url: string, repository: string): string {
  const base = repository.endsWith("/") ? repository : `${repository}/`;
  return url.startsWith(base) ? url.slice(base.length) : url;
}

/** A silent server is no frozen screen: the time so far, the attempt, and when the fetcher gives up. */
function waitingLines(waiting: Waiting, clock: number, repository: string, width: number): Line[] {
  const elapsed = shortDuration(Math.max(0, clock - waiting.since) / 1000);
  const left = shortDuration(Math.max(0, waiting.givesUpAt - clock) / 1000);
  const times = `${elapsed}, attempt ${waiting.attempt} of ${waiting.attempts}, gives up in ${left}`;
  // Once bytes come, the download's own lines above name the file and move.
  if (waiting.answered) return [plain(shorten(`  ${times}`, width))];
  return [plain(`  ${shorten(fileName(waiting.url, repository), width - 2)}`), plain(shorten(`  no answer yet: ${times}`, width))];
}

function downloadLines(download: Download, repository: string, width: number): Line[] {
  const rate = download.rate > 0 ? `  ${formatBytes(download.rate)}/s` : "";
  const lines: Line[] = [plain(`  ${shorten(fileName(download.url, repository), width - 2)}`)];
  if (download.total === undefined || download.total <= 0) {
    const received = `  ${formatBytes(download.received)} (size not announced)`;
    lines.push(plain(received.length + rate.length <= width ? received + rate : shorten(received, width)));
    return lines;
  }
  const fraction = Math.min(1, download.received / download.total);
  // A fixed bar width keeps the bars of several downloads aligned.
  const barWidth = Math.max(10, Math.min(30, width - 48));
  const filled = Math.round(fraction * barWidth);
  const numbers = `${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(download.received)} of ${formatBytes(download.total)}`;
  const bar = `  [${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${numbers}`;
  // The rate goes first when the row is short: a figure is shown whole or not at all.
  lines.push(plain(bar.length + rate.length <= width ? bar + rate : shorten(bar, width)));
  return lines;
}

function certificateLines(certificate: CertificateSummary, index: number, count: number, width: number): Line[] {
  const status: Segment =
    certificate.status === "valid" ? { text: "VALID", style: "good" } : { text: "INVALID: will not be installed", style: "bad" };
  const days = certificate.daysLeft < 0 ? `expired ${-certificate.daysLeft} days ago` : `${certificate.daysLeft} days left`;
  const title = `Certificate ${index + 1} of ${count}: ${certificate.role}`;
  // The status goes after the title when both fit on one row, else on its own.
  const lines: Line[] =
    title.length + 2 + status.text.length <= width
      ? [[{ text: `${title}  `, style: "bold" }, status]]
      : [[{ text: shorten(title, width), style: "bold" }], [{ text: "  Status:  " }, { ...status, text: shorten(status.text, width - 11) }]];
  const label = "  Subject: ".length;
  for (const line of labelled("  Subject: ", certificate.subject, width)) lines.push(plain(line));
  for (const line of labelled("  Issuer:  ", certificate.issuer, width)) lines.push(plain(line));
  fingerprintLines(certificate.sha256, width - label).forEach((line, i) => lines.push(plain(`${i === 0 ? "  SHA-256: " : " ".repeat(label)}${line}`)));
  for (const line of labelled("  Valid:   ", `${day(certificate.notBefore)} to ${day(certificate.notAfter)} (${days})`, width)) lines.push(plain(line));
  if (certificate.status !== "valid") {
    const reason = `${certificate.reason}${certificate.code === undefined ? "" : ` [${certificate.code}]`}`;
    for (const line of labelled("  Reason:  ", reason, width)) lines.push([{ text: line, style: "bad" }]);
  }
  if (certificate.note !== undefined) for (const line of labelled("  ", certificate.note, width)) lines.push([{ text: line, style: "bold" }]);
  return lines;
}

function reviewBody(state: WizardState, width: number, rows: number): Line[] {
  const { certificates } = state;
  const valid = certificates.filter((c) => c.status === "valid").length;
  const head: Line[] = [];
  head.push(...para(`Accept installs the ${valid} valid of these ${certificates.length} certificates; nothing written yet.`, width));
  head.push(...labelled("Bundle:  ", state.url.trim(), width).map(plain));
  // The anchor's fingerprint, to compare with the one the release notes publish.
  for (const root of state.anchor?.roots ?? []) {
    head.push(...labelled("Anchor:  ", root.subject, width).map(plain));
    const label = "Anchor:  ".length;
    fingerprintLines(root.sha256, width - label).forEach((line, i) => head.push(plain(`${i === 0 ? "SHA-256: " : " ".repeat(label)}${line}`)));
  }
  head.push(BLANK);
  // Whole certificates from reviewScroll on, as many as fit above the buttons and the position line.
  // The position line sits right above the buttons: room for two certificates under the anchor at 80x24.
  const room = rows - head.length - 2;
  const list: Line[] = [];
  let last = state.reviewScroll;
  for (let i = state.reviewScroll; i < certificates.length; i++) {
    const block = certificateLines(certificates[i] as CertificateSummary, i, certificates.length, width);
    const needed = (list.length > 0 ? 1 : 0) + block.length;
    if (list.length > 0 && list.length + needed > room) break;
    if (list.length > 0) list.push(BLANK);
    list.push(...block);
    last = i;
  }
  const first = certificates.length === 0 ? 0 : state.reviewScroll + 1;
  const more = last + 1 < certificates.length || state.reviewScroll > 0;
  const position = `Certificates ${first}-${Math.min(certificates.length, last + 1)} of ${certificates.length}${more ? " (Up/Down for the others)" : ""}`;
  const body = [...head, ...list.slice(0, room)];
  while (body.length < rows - 2) body.push(BLANK);
  return [...body, plain(shorten(position, width)), buttons(["Accept", "Back"], state.focus)];
}

function resultBody(state: WizardState, width: number, rows: number): Line[] {
  const result = state.result;
  if (result === undefined) return withButtons([], buttons(["Exit"], 0), rows);
  const body: Line[] = [...para("pkg_install now verifies the signature of every package from", width), ...labelled("  ", result.repository, width).map(plain), BLANK];
  body.push(...para("Files written (as the target system sees them):", width));
  // Paths are wrapped after a "/", never shortened: they are what the admin will look for.
  for (const file of result.files) body.push(...pathLines(`  ${file.status.padEnd(9)} `, file.path, width).map(plain));
  body.push(BLANK);
  const tested = result.testInstall;
  if (tested === undefined) {
    body.push(plain("Test-install: skipped (--no-test-install)"));
  } else {
    const verdict: Segment = tested.trusted ? { text: "TRUSTED", style: "good" } : { text: "NOT TRUSTED", style: "bad" };
    // Only a pkg_add that ran is a test-install; otherwise the screen says what was checked instead.
    const title = tested.check === "pkg_add" ? "Test-install" : "Signature check";
    body.push([{ text: shorten(`${title}: ${tested.package} `, width - 12) }, verdict]);
    if (tested.signer !== undefined) for (const line of labelled("  Signer: ", tested.signer, width)) body.push(plain(line));
    // The same words as the plain report and the JSON: the pkg_add command that ran, or that none did and why.
    for (const line of labelled("  Check:  ", tested.why, width)) body.push(plain(line));
  }
  if (result.forgottenState !== undefined) body.push(BLANK, ...para(forgottenNotice(result.forgottenState), width));
  return withButtons(body, buttons(["Exit"], 0), rows);
}

const CHOICE_LABELS: Readonly<Record<FailureChoice, string>> = { retry: "Retry", "change-url": "Change URL", quit: "Quit", "no-packages": "No binary packages" };

function failureBody(state: WizardState, width: number, rows: number): Line[] {
  const failure = state.failure;
  const body: Line[] = [BLANK];
  if (failure !== undefined) {
    body.push([{ text: "Failed step: ", style: "bold" }, { text: shorten(STEP_TITLES[failure.step], width - 13) }]);
    body.push(BLANK);
    for (const line of labelled("Cause: ", `${failure.message} [${failure.code}]`, width)) body.push([{ text: line, style: "bad" }]);
    body.push(BLANK);
    body.push(...para(failure.unchanged ? "Nothing on the system was changed." : "Some files could not be put back:", width));
    for (const entry of failure.notRestored ?? []) body.push(...labelled("  ", `${entry.path}: ${entry.message} [${entry.code}]`, width).map(plain));
    body.push(BLANK);
    for (const line of labelled("Next: ", failure.next, width)) body.push(plain(line));
  }
  body.push(BLANK, plain(shorten(`Repository: ${state.url.trim()}`, width)));
  const choices = failureChoices(failure);
  if (choices.includes("no-packages")) body.push(BLANK, ...para("Change URL to try another repository, or go on without binary packages (nothing is configured). Verification is never turned off.", width));
  return withButtons(body, buttons(choices.map((choice) => CHOICE_LABELS[choice]), state.focus), rows);
}
