/**
 * One line of progress for long operator runs (repo sign): a bar, packages, bytes, rate
 * and time left, rounded, and cut to the terminal's width so that it never wraps (a
 * wrapped line would break the carriage-return redraw).
 */

export interface ProgressState {
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Decimal units, three significant digits at most: "1.23 GB", "987 MB", "12 B". */
export function shortBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "45s", "12m05s", "3h20m"; "?" before there is a rate to go by. */
export function shortDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
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
