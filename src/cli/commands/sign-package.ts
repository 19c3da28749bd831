import { z } from "zod";
import { EXIT, type ErrorOptions } from "../../errors.js";
import { SigningError } from "../../keys/errors.js";
import { signPackage } from "../../keys/sign-package.js";
import type { Command } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { readInputText, requireInputFile } from "../../input-file.js";
import { requireOutputFile } from "../../output-file.js";

const schema = z.object({
  key: z.string({ error: "a private key is required (--key FILE)" }).min(1),
  cert: z.string({ error: "the signing certificate is required (--cert FILE)" }).min(1),
  chain: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

const certificateJson = z.object({ subject: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export const outputSchema = z.object({
  output: z.string(),
  pkgname: z.string(),
  fileSize: z.number().int(),
  blocks: z.number().int(),
  signer: certificateJson,
  embedded: z.array(certificateJson),
  warnings: z.array(z.string()),
});

const unreadable = (message: string, options: ErrorOptions) => new SigningError("SIGN_IO", message, options);
const readText = (path: string, cwd: string) => readInputText(path, cwd, unreadable);

export const command: Command = {
  name: "sign-package",
  summary: "Sign a binary package in pkg_install's format (refusing signers pkg_install would refuse).",
  usage: "sign-package IN OUT --key FILE --cert FILE [--chain FILE] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    const [input, output] = requirePositionals(positionals, ["IN", "OUT"]) as [string, string];
    const signed = await signPackage({
      input: await requireInputFile(input, context.cwd, unreadable),
      output: await requireOutputFile(output, context.cwd),
      keyPem: await readText(options.key, context.cwd),
      certPem: await readText(options.cert, context.cwd),
      ...(options.chain ? { chainPem: await readText(options.chain, context.cwd) } : {}),
    });
    const brief = (c: { subject: string; sha256: string }) => ({ subject: c.subject, sha256: c.sha256 });
    if (options.json) {
      writeJson(context.stdout, outputSchema, { output, pkgname: signed.pkgname, fileSize: signed.fileSize, blocks: signed.blocks, signer: brief(signed.signer), embedded: signed.embedded.map(brief), warnings: signed.warnings });
    } else {
      writeLines(context.stdout, [
        `${output}: signed ${signed.pkgname} (${signed.fileSize} bytes, ${signed.blocks} blocks of 65536)`,
        `  signer    ${signed.signer.subject}`,
        ...signed.embedded.map((c) => `  embedded  ${c.subject}`),
        ...signed.warnings.map((w) => `  warning: ${w}`),
      ]);
    }
    return EXIT.OK;
  },
};
