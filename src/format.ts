/**
 * Numbers and fingerprints worded for people, shared by the CLI's reporters and the TUI's
 * screens (neither imports the other).
 */

/** "ab12cd..." as "AB:12:CD:..." the way openssl prints fingerprints. */
export function colonFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(":");
}

/** A byte count or rate, rounded for people: "471 B", "1.5 KiB", "3.7 MiB", "2.0 GiB". */
export function formatBytes(bytes: number): string {
  const whole = Math.round(bytes);
  if (whole < 1024) return `${whole} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
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
