import { z } from "zod";
import { readStatus } from "../../bootstrap/status.js";
import { readRefreshRecord, type RefreshRecord } from "../../config/refresh-record.js";
import { TargetRoot } from "../../config/target-root.js";
import { EXIT } from "../../errors.js";
import { targetPath } from "../bootstrap-options.js";
import type { Command } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { colonFingerprint } from "../../format.js";

const schema = z.object({ root: z.string().min(1).default("/"), config: targetPath.optional(), json: z.boolean().default(false) });

const statusJsonSchema = z.object({
  healthy: z.boolean(),
  repository: z.string(),
  configFile: z.string(),
  anchorFile: z.string(),
  acceptedAt: z.string(),
  files: z.array(z.object({ path: z.string(), sha256: z.string().nullable(), matches: z.boolean() })),
  certificates: z.array(
    z.object({ file: z.string(), subject: z.string(), issuer: z.string(), sha256: z.string(), notAfter: z.string(), daysLeft: z.number().int() }),
  ),
  /** The last `pkgtrust refresh`: when, and ok or the failure's code. */
  lastRefresh: z.object({ at: z.string(), ok: z.boolean(), changed: z.boolean(), code: z.string().optional(), message: z.string().optional() }).nullable(),
  warnings: z.array(z.string()),
});

/** A refused refresh since the last accepted bundle is a warning: the mirror may be frozen or rolled back. */
function refreshWarnings(last: RefreshRecord | undefined, acceptedAt: string): string[] {
  if (!last || last.ok || Date.parse(last.at) < Date.parse(acceptedAt)) return [];
  return [`the last refresh, at ${last.at}, failed: ${last.message ?? "no message"} [${last.code ?? "?"}]; the trust files are still those accepted at ${acceptedAt}`];
}

function refreshLine(last: RefreshRecord | undefined): string {
  if (!last) return "never run";
  if (!last.ok) return `${last.at}, FAILED [${last.code ?? "?"}]`;
  return `${last.at}, ok${last.changed ? ", changed the trust files" : ", nothing changed"}`;
}

export const command: Command = {
  name: "status",
  summary: "Show the configured repository and trust files, days to expiry, and drift from what pkgtrust wrote.",
  usage: "status [--config FILE] [--root DIR] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    requirePositionals(positionals, []);
    const root = new TargetRoot(options.root);
    const report = await readStatus(root, options.config, context.now);
    const lastRefresh = await readRefreshRecord(root, report.configFile);
    const warnings = [...report.warnings, ...refreshWarnings(lastRefresh, report.acceptedAt)];
    const healthy = warnings.length === 0;
    if (options.json) {
      writeJson(context.stdout, statusJsonSchema, { healthy, ...report, lastRefresh: lastRefresh ?? null, warnings });
    } else {
      writeLines(context.stdout, [
        `repository:  ${report.repository}`,
        `config:      ${report.configFile}`,
        `anchor:      ${report.anchorFile}`,
        `accepted at: ${report.acceptedAt}`,
        `refreshed:   ${refreshLine(lastRefresh)}`,
        "files:",
        ...report.files.map((file) => `  ${file.matches ? "ok     " : "CHANGED"} ${file.path}`),
        "certificates:",
        ...report.certificates.map(
          (c) => `  ${c.subject}  (${c.file})\n    sha256 ${colonFingerprint(c.sha256)}\n    expires ${c.notAfter.slice(0, 10)}, in ${c.daysLeft} days`,
        ),
        ...(healthy ? ["no warnings"] : ["warnings:", ...warnings.map((w) => `  ${w}`)]),
      ]);
    }
    // Non-zero on warnings so that monitoring can run `pkgtrust status` as a check.
    return healthy ? EXIT.OK : EXIT.STALE;
  },
};
