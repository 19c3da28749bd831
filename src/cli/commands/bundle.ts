import { z } from "zod";
import { writeFileAtomic } from "../../config/atomic-file.js";
import { EXIT } from "../../errors.js";
import { buildBundle, type BuiltBundle } from "../../keys/bundle-build.js";
import { lintBundle, type LintReport } from "../../keys/bundle-lint.js";
import { bundleInputUnreadable } from "../../keys/files.js";
import { readInputBytes } from "../../input-file.js";
import { STRICT_POLICY } from "../../pki/policy.js";
import { requireOutputFile } from "../../output-file.js";
import { readAnchorFile } from "../../trust/anchor.js";
import { readCertificateInputs } from "../../trust/trust-files.js";
import type { Command, CommandContext, Subcommand } from "../command.js";
import { UsageError } from "../errors.js";
import { groupSummary, groupUsage, runSubcommand } from "../group.js";
import { parseCommandLine } from "../options.js";
import { writeJson, writeLines } from "../output.js";

const anchorOption = z.string({ error: "the anchor file is required (--anchor FILE)" }).min(1);
const dayCount = (flag: string) =>
  z
    .string()
    .regex(/^\d+$/, `--${flag} must be a whole number of days`)
    .transform(Number)
    .pipe(z.number().int().max(36500));

const buildOptions = z.object({ anchor: anchorOption, out: z.string({ error: "the output file is required (--out FILE)" }).min(1), json: z.boolean().default(false) });
const lintOptions = z.object({ anchor: anchorOption, "warn-days": dayCount("warn-days").default(30), "crl-warn-days": dayCount("crl-warn-days").default(7), strict: z.boolean().default(false), json: z.boolean().default(false) });

const finding = z.object({ code: z.string(), message: z.string() });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const builtSchema = z.object({
  output: z.string(),
  written: z.boolean(),
  certificates: z.array(z.object({ subject: z.string(), issuer: z.string(), sha256, role: z.enum(["intermediate", "signing", "other"]), depth: z.number().int(), notAfter: z.string() })),
  crls: z.array(z.object({ issuer: z.string(), number: z.string().nullable(), nextUpdate: z.string().nullable(), revoked: z.array(z.string()) })),
  dropped: z.array(z.object({ kind: z.enum(["certificate", "crl"]), subject: z.string(), sha256, source: z.string().optional(), code: z.string(), reason: z.string() })),
  warnings: z.array(finding),
});
const lintSchema = z.object({
  file: z.string(),
  ok: z.boolean(),
  errors: z.array(finding),
  warnings: z.array(finding),
  certificates: z.array(z.object({ subject: z.string(), sha256, role: z.enum(["intermediate", "signing", "other"]), status: z.enum(["valid", "invalid"]), code: z.string().optional(), notAfter: z.string() })),
});

function staleWarnings(built: BuiltBundle) {
  return built.staleCrls.map((crl) => ({
    code: "BOOT_STALE_CRL",
    message: `the CRL of ${crl.issuer} expired on ${crl.nextUpdate?.toISOString() ?? "?"}; refresh refuses it: renew it with 'pkgtrust keys crl' and build the bundle again`,
  }));
}

function builtText(built: BuiltBundle, output: string, written: boolean): string[] {
  const lines = built.certificates.map((k) => `kept     ${k.role.padEnd(12)}  ${k.certificate.subject}  (until ${k.certificate.notAfter.toISOString()})`);
  lines.push(...built.crls.map((crl) => `kept     crl           ${crl.issuer}${crl.number === undefined ? "" : ` #${crl.number}`}, ${crl.revokedSerials.size} revoked`));
  lines.push(...built.dropped.map((d) => `dropped  ${d.kind.padEnd(12)}  ${d.subject}${d.source ? ` (${d.source})` : ""}: ${d.reason} [${d.code}]`));
  lines.push(...staleWarnings(built).map((w) => `warning: ${w.message} [${w.code}]`));
  lines.push(
    written
      ? `${output}: ${built.certificates.length} certificate(s), ${built.crls.length} CRL(s), ${built.dropped.length} input(s) dropped`
      : `${output} not written: no signing certificate verifies against the anchor, clients would refuse the bundle`,
  );
  return lines;
}

async function build(context: CommandContext, argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, buildOptions);
  if (positionals.length === 0) throw new UsageError("USAGE_MISSING_ARGUMENT", "missing the certificate and CRL files to build the bundle from");
  const output = await requireOutputFile(options.out, context.cwd);
  const anchor = await readAnchorFile(options.anchor, context.cwd, bundleInputUnreadable);
  // A private key among the inputs is refused here (PEM_UNEXPECTED_BLOCK): it must never reach a bundle.
  const inputs = await readCertificateInputs(positionals, context.cwd, bundleInputUnreadable);
  const built = await buildBundle(inputs, anchor.certificates, { time: context.now, policy: STRICT_POLICY });
  // Nothing usable: leave any published bundle as it is rather than replace it with one every client refuses.
  if (built.usable) await writeFileAtomic(output, Buffer.from(built.pem), 0o644);
  if (options.json) {
    writeJson(context.stdout, builtSchema, {
      output: options.out,
      written: built.usable,
      certificates: built.certificates.map((k) => ({ subject: k.certificate.subject, issuer: k.certificate.issuer, sha256: k.certificate.sha256, role: k.role, depth: k.depth, notAfter: k.certificate.notAfter.toISOString() })),
      crls: built.crls.map((crl) => ({ issuer: crl.issuer, number: crl.number === undefined ? null : crl.number.toString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null, revoked: [...crl.revokedSerials] })),
      dropped: built.dropped,
      warnings: staleWarnings(built),
    });
  } else {
    writeLines(context.stdout, builtText(built, options.out, built.usable));
  }
  return built.usable ? EXIT.OK : EXIT.UNTRUSTED;
}

function lintText(report: LintReport, file: string): string[] {
  return [
    ...report.errors.map((f) => `error    ${f.message} [${f.code}]`),
    ...report.warnings.map((f) => `warning  ${f.message} [${f.code}]`),
    `${file}: ${report.verdict?.certificates.length ?? 0} certificate(s), ${report.verdict?.crls.length ?? 0} CRL(s), ${report.errors.length} error(s), ${report.warnings.length} warning(s)`,
  ];
}

async function lint(context: CommandContext, argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, lintOptions);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "USAGE_MISSING_ARGUMENT" : "USAGE_BAD_OPTION", "give exactly one bundle file to lint");
  const file = positionals[0] as string;
  const anchor = await readAnchorFile(options.anchor, context.cwd, bundleInputUnreadable);
  const bytes = await readInputBytes(file, context.cwd, bundleInputUnreadable);
  const report = await lintBundle(bytes, file, anchor, { time: context.now, warnDays: options["warn-days"], crlWarnDays: options["crl-warn-days"] });
  const ok = report.errors.length === 0 && !(options.strict && report.warnings.length > 0);
  if (options.json) {
    writeJson(context.stdout, lintSchema, {
      file,
      ok,
      errors: report.errors,
      warnings: report.warnings,
      certificates: (report.verdict?.certificates ?? []).map((v) => ({
        subject: v.certificate.subject,
        sha256: v.certificate.sha256,
        role: v.role,
        status: v.status,
        ...(v.code ? { code: v.code } : {}),
        notAfter: v.certificate.notAfter.toISOString(),
      })),
    });
  } else {
    writeLines(context.stdout, lintText(report, file));
  }
  return ok ? EXIT.OK : EXIT.UNTRUSTED;
}

const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "build",
    usage: "bundle build --anchor FILE --out pkg_keys.pem CERT_OR_CRL_FILE... [--json]",
    summary:
      "keep only the inputs (PEM files of certificates and CRLs) that verify against the anchor as clients verify them, never the anchor itself, the newest CRL of each CA; issuers come before what they issue, CRLs last. Prints what was dropped and why. Exit 0 and write --out (replacing it) when a signing certificate remains; exit 1 and write nothing when none does.",
  },
  {
    name: "lint",
    usage: "bundle lint pkg_keys.pem --anchor FILE [--warn-days N] [--crl-warn-days N] [--strict] [--json]",
    summary:
      "the checks setup and refresh run (size limit, PEM, every certificate and CRL, foreign roots, at least one signing certificate, expired CRLs), and warnings for certificates expiring within --warn-days (30), CRLs within --crl-warn-days (7) of their nextUpdate, a missing CRL of the anchor (the root), and signing certificates whose issuer is missing. Exit 1 on any error (on warnings too with --strict), for publishing scripts.",
  },
];

export const command: Command = {
  name: "bundle",
  summary: groupSummary("Build and lint a repository key bundle (pkg_keys.pem).", SUBCOMMANDS, "Both read the anchor (--anchor) as clients do: only its self-signed certificates end a chain."),
  usage: groupUsage(SUBCOMMANDS),
  subcommands: SUBCOMMANDS,
  run: (context) => runSubcommand("bundle", context, { build: (c) => build(c, c.argv.slice(1)), lint: (c) => lint(c, c.argv.slice(1)) }),
};
