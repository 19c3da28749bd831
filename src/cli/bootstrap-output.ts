import { z } from "zod";
import type { SetupOutcome } from "../bootstrap/setup.js";
import { EXIT } from "../errors.js";
import type { CommandContext } from "./command.js";
import { certificateVerdictJson } from "./certificate-json.js";
import { writeJson } from "./output.js";
import { colonFingerprint } from "../format.js";
import { plainReporter } from "./reporter.js";

const certificate = certificateVerdictJson.extend({ daysLeft: z.number().int(), note: z.string().optional() });

/** The JSON of `setup` and `refresh`, the contract sysinst's glue reads (docs/releng.md). */
export const setupJsonSchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    repository: z.string(),
    configFile: z.string(),
    anchorFile: z.string(),
    anchorRoots: z.array(z.object({ subject: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
    certificates: z.array(certificate),
    files: z.array(z.object({ path: z.string(), status: z.enum(["created", "updated", "unchanged"]) })),
    testInstall: z
      .object({ package: z.string(), url: z.string(), check: z.enum(["pkg_add", "native"]), why: z.string(), trusted: z.boolean(), signer: z.string().optional() })
      .nullable(),
    forgottenState: z
      .object({
        repository: z.string(),
        acceptedAt: z.string(),
        reason: z.enum(["reset-state", "other-repository"]),
        crlNumbers: z.record(z.string(), z.string()),
        certificates: z.number().int(),
      })
      .nullable(),
  }),
  z.object({
    ok: z.literal(false),
    failure: z.object({
      step: z.string(),
      code: z.string(),
      message: z.string(),
      next: z.string(),
      unchanged: z.boolean(),
      notRestored: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
    }),
    error: z.object({ code: z.string(), message: z.string(), next: z.string(), exit: z.number().int(), detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) }),
  }),
]);

/** Prints the outcome (JSON, or the closing lines of the plain report) and returns the exit status. */
export function reportOutcome(context: CommandContext, outcome: SetupOutcome, json: boolean): number {
  if (json) {
    if (outcome.ok) {
      writeJson(context.stdout, setupJsonSchema, { ok: true, ...outcome.result, testInstall: outcome.result.testInstall ?? null, forgottenState: outcome.result.forgottenState ?? null });
    } else {
      const { error } = outcome;
      writeJson(context.stdout, setupJsonSchema, {
        ok: false,
        failure: { ...outcome.failure, notRestored: outcome.failure.notRestored ?? [] },
        error: { code: error.code, message: error.message, next: error.next, exit: error.exit, detail: error.detail },
      });
    }
  } else if (outcome.ok) {
    const { result } = outcome;
    const tested = result.testInstall ? `${result.testInstall.package}: ${result.testInstall.why}` : "skipped";
    const anchors = result.anchorRoots.map((root) => `\n  anchor: ${result.anchorFile}: ${root.subject}, SHA-256 ${colonFingerprint(root.sha256)}`).join("");
    context.stdout.write(`\npkgtrust: ${result.repository} is configured in ${result.configFile}${anchors}\n  test-install: ${tested}\n`);
  }
  return outcome.ok ? EXIT.OK : outcome.error.exit;
}

/** The user's own stops of a run: no failure to report. */
const STOPPED = new Set(["TUI_CANCELLED", "BOOT_DECLINED"]);

/**
 * What stays on the terminal once the wizard has given it back: the result, or why nothing
 * was configured (the full screen is gone, and a scrollback should say what happened).
 */
export function reportWizardExit(context: CommandContext, status: number, last: SetupOutcome | undefined): void {
  if (status === EXIT.OK && last?.ok) return void reportOutcome(context, last, false);
  if (last !== undefined && !last.ok && !STOPPED.has(last.failure.code)) plainReporter(context, false)({ type: "step-failed", failure: last.failure });
  if (status === EXIT.INTERRUPTED) context.stderr.write("pkgtrust: the setup wizard was left; nothing was set up.\n");
  else if (status !== EXIT.OK) context.stderr.write(`pkgtrust: nothing was set up (exit status ${status}); no binary packages will verify from this repository.\n`);
}
