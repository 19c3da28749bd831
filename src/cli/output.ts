import type { Writable } from "node:stream";
import type { z } from "zod";
import type { PkgtrustError } from "../errors.js";

type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Writes a command's JSON result after checking it against the command's output schema. */
export function writeJson<S extends z.ZodType>(out: Writable, schema: S, value: DeepReadonly<z.input<S>>): void {
  out.write(`${JSON.stringify(schema.parse(value), null, 2)}\n`);
}

export function writeLines(out: Writable, lines: readonly string[]): void {
  if (lines.length > 0) out.write(`${lines.join("\n")}\n`);
}

export function errorJson(error: PkgtrustError): object {
  return { error: { code: error.code, message: error.message, next: error.next, exit: error.exit, detail: error.detail } };
}

export function errorText(error: PkgtrustError): string {
  return `pkgtrust: ${error.message} [${error.code}]\n  next: ${error.next}\n`;
}

/** A failure as the user asked for it: JSON on stdout, or the message and next step on stderr. */
export function writeError(streams: { readonly stdout: Writable; readonly stderr: Writable }, error: PkgtrustError, json: boolean): void {
  if (json) streams.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
  else streams.stderr.write(errorText(error));
}
