import { z } from "zod";
import { readCatalogue, shippedCatalogue } from "../../anchors/catalogue.js";
import { checkAnchors } from "../../anchors/check.js";
import { AnchorsError } from "../../anchors/errors.js";
import { TargetRoot } from "../../config/target-root.js";
import { EXIT } from "../../errors.js";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { colonFingerprint } from "../../format.js";

const schema = z.object({
  root: z.string().min(1).default("/"),
  catalogue: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

const outputSchema = z.object({
  ok: z.boolean(),
  catalogue: z.string(),
  root: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      ok: z.boolean(),
      code: z.string().optional(),
      reason: z.string(),
      expected: z.array(z.object({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
      found: z.array(z.object({ subject: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), catalogued: z.boolean() })),
    }),
  ),
});

export const command: Command = {
  name: "anchors",
  summary: "Check that the installed base-system anchor files match the anchor catalogue.",
  usage: "anchors check [--root DIR] [--catalogue FILE] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    const [action] = requirePositionals(positionals, ["ACTION"]);
    if (action !== "check") throw new UsageError("USAGE_BAD_OPTION", `unknown action '${action}': the action is 'check'`);
    const catalogue = options.catalogue === undefined ? shippedCatalogue() : await readCatalogue(options.catalogue, context.cwd);
    const root = new TargetRoot(options.root);
    const files = await checkAnchors(catalogue, root);
    const failed = files.find((file) => !file.ok);
    if (options.json) {
      writeJson(context.stdout, outputSchema, { ok: failed === undefined, catalogue: options.catalogue ?? "built-in", root: root.dir, files });
    } else {
      writeLines(
        context.stdout,
        files.flatMap((file) => [
          `${file.ok ? "ok    " : "FAILED"} ${file.path}: ${file.reason}${file.code ? ` [${file.code}]` : ""}`,
          ...file.expected.map((entry) => `    catalogue: ${entry.name}\n      sha256 ${colonFingerprint(entry.sha256)}`),
          ...file.found.filter((c) => !c.catalogued).map((c) => `    not in the catalogue: ${c.subject}\n      sha256 ${colonFingerprint(c.sha256)}`),
        ]),
      );
    }
    return failed?.code === undefined ? EXIT.OK : AnchorsError.codes[failed.code].exit;
  },
};
