import { z } from "zod";
import { EXIT, type ErrorOptions } from "../../errors.js";
import { PackageError } from "../../package/errors.js";
import { fileChunks } from "../../file-chunks.js";
import { verifyPackage, type PackageVerdict } from "../../package/verify-package.js";
import type { Certificate } from "../../pki/certificate.js";
import { PKG_INSTALL_POLICY } from "../../pki/path.js";
import type { Command } from "../command.js";
import { atOption } from "../time-option.js";
import { UsageError } from "../errors.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { requireInputFile } from "../../input-file.js";
import { namedTrust } from "../../trust/pkg-install-trust.js";
import { youngCollector } from "../../young-gc.js";

const schema = z.object({
  anchor: z.string().min(1).optional(),
  chain: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  at: atOption,
  json: z.boolean().default(false),
});

const certificateJson = z.object({ subject: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const answerJson = z.object({ trusted: z.boolean(), code: z.string().nullable(), reason: z.string() });

export const outputSchema = z.object({
  file: z.string(),
  time: z.string(),
  anchor: z.string(),
  chain: z.string().nullable(),
  trusted: z.boolean(),
  pkgname: z.string().nullable(),
  code: z.string().nullable(),
  reason: z.string(),
  signer: certificateJson.nullable(),
  path: z.array(certificateJson),
  newerOpenSSL: answerJson.nullable(),
  signedAttributes: z.boolean().nullable(),
  hash: z.object({ blockSize: z.number().int(), fileSize: z.number().int(), blocks: z.number().int() }).nullable(),
  warnings: z.array(z.string()),
});

const unreadable = (message: string, options: ErrorOptions) => new PackageError("PKG_UNREADABLE", message, options);
const brief = (c: Certificate) => ({ subject: c.subject, sha256: c.sha256 });

function toText(verdict: PackageVerdict, file: string): string[] {
  const name = verdict.pkgname ?? file;
  const lines = verdict.trusted ? [`${name}: trusted`] : [`${name}: NOT trusted: ${verdict.reason} [${verdict.code ?? "?"}]`];
  if (verdict.signer) lines.push(`  signer   ${verdict.signer.subject}`);
  if (verdict.path?.length) lines.push(`  path     ${verdict.path.map((c) => c.subject).join(" <- ")}`);
  if (verdict.newerOpenSSL) {
    const newer = verdict.newerOpenSSL;
    lines.push(`  note     pkg_install on NetBSD 10 (OpenSSL 3.0) builds the chain from the signature's certificates only; with a newer OpenSSL, which also uses CERTIFICATE_CHAIN, the package would be ${newer.trusted ? "trusted" : `refused: ${newer.reason}`}`);
  }
  for (const warning of verdict.warnings) lines.push(`  warning  ${warning}`);
  return lines;
}

export const command: Command = {
  name: "verify-package",
  summary: "Verify a signed binary package as pkg_install on NetBSD 10 would, and check its @name.",
  usage: "verify-package FILE --anchor FILE [--chain FILE] [--at ISO-TIME] [--json]\nverify-package FILE --config pkg_install.conf [--at ISO-TIME] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    const [file] = requirePositionals(positionals, ["FILE"]) as [string];
    const packagePath = await requireInputFile(file, context.cwd, unreadable);
    const files = await namedTrust(options, context.cwd, unreadable);
    if (files === undefined) throw new UsageError("USAGE_MISSING_ARGUMENT", "an anchor file is required (--anchor FILE or --config pkg_install.conf)");
    const { trust } = files;
    const time = options.at ?? context.now;
    const checked = await verifyPackage(fileChunks(packagePath, undefined, undefined, unreadable), trust, { time, policy: PKG_INSTALL_POLICY, collect: youngCollector() });
    const verdict = { ...checked, warnings: [...files.warnings, ...checked.warnings] };
    if (options.json) {
      writeJson(context.stdout, outputSchema, {
        file,
        time: time.toISOString(),
        anchor: files.anchor,
        chain: files.chain ?? null,
        trusted: verdict.trusted,
        pkgname: verdict.pkgname ?? null,
        code: verdict.code ?? null,
        reason: verdict.reason,
        signer: verdict.signer ? brief(verdict.signer) : null,
        path: (verdict.path ?? []).map(brief),
        newerOpenSSL: verdict.newerOpenSSL ? { trusted: verdict.newerOpenSSL.trusted, code: verdict.newerOpenSSL.code ?? null, reason: verdict.newerOpenSSL.reason } : null,
        signedAttributes: verdict.signedAttributes ?? null,
        hash: verdict.hash ? { blockSize: verdict.hash.blockSize, fileSize: verdict.hash.fileSize, blocks: verdict.hash.blocks } : null,
        warnings: [...verdict.warnings],
      });
    } else {
      writeLines(context.stdout, toText(verdict, file));
    }
    return verdict.trusted ? EXIT.OK : EXIT.UNTRUSTED;
  },
};
