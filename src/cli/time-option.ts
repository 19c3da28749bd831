import { z } from "zod";

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date or date-time as --at takes it: `2026-06-01` is 00:00:00 UTC that day;
 * `2026-06-01T12:00`, `...T12:00:30`, `...T12:00:30.5` with `Z` or an offset (`+02:00`,
 * `+0200`); a date-time without either is UTC too, so that a run means the same on every
 * machine. Impossible dates (2026-02-30) are refused rather than rolled over.
 */
export function parseIsoTime(value: string): Date | undefined {
  const match = ISO_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction, zone] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  const calendar = new Date(Date.UTC(y, mo - 1, d));
  if (calendar.getUTCFullYear() !== y || calendar.getUTCMonth() !== mo - 1 || calendar.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  const offset = zone === undefined || zone.toUpperCase() === "Z" ? "Z" : zone.replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const time = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction ? `.${fraction.slice(0, 3)}` : ""}${offset}`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** --at ISO-TIME: the verification time instead of now. */
export const atOption = z
  .string()
  .transform((value, context) => {
    const time = parseIsoTime(value);
    if (time === undefined) context.addIssue({ code: "custom", message: `'${value}' is not an ISO 8601 date or time such as 2026-06-01 or 2026-06-01T12:00:00Z` });
    return time ?? new Date(Number.NaN);
  })
  .optional();
