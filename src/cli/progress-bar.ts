/**
 * One line of progress for long operator runs (repo sign): a bar, packages, bytes, rate
 * and time left, rounded, and cut to the terminal's width so that it never wraps (a
 * wrapped line would break the carriage-return redraw).
 */

import { shortBytes, shortDuration } from "../format.js";

export interface ProgressState {
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
}

export function progressLine(state: ProgressState, width: number): string {
  const seconds = state.elapsedMs / 1000;
  const rate = seconds > 0.2 ? state.bytes / seconds : 0;
  const left = rate > 0 ? (state.totalBytes - state.bytes) / rate : Number.NaN;
  const fraction = state.totalBytes > 0 ? Math.min(1, state.bytes / state.totalBytes) : state.total > 0 ? state.done / state.total : 1;
  const text = ` ${state.done}/${state.total} pkgs  ${shortBytes(state.bytes)}/${shortBytes(state.totalBytes)}  ${rate > 0 ? `${shortBytes(rate)}/s` : "-"}  ${shortDuration(left)} left`;
  const room = Math.max(0, width - 1);
  const barWidth = Math.min(30, room - text.length - 2);
  if (barWidth < 5) return text.trim().slice(0, room);
  const filled = Math.round(fraction * barWidth);
  return `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]${text}`.slice(0, room);
}
