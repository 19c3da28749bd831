import { z } from "zod";
import { crlWindowProblems } from "../../trust/bundle-rules.js";
import { verifyBundle, type BundleVerdict, type CrlVerdict } from "../../bundle/verify.js";
import { EXIT } from "../../errors.js";
import { CertificateError } from "../../pki/errors.js";
import { PKG_INSTALL_POLICY, STRICT_POLICY } from "../../pki/path.js";
import { certificateVerdictJson } from "../certificate-json.js";
import type { Command } from "../command.js";
import { atOption } from "../time-option.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { colonFingerprint } from "../../format.js";
import type { Unreadable } from "../../input-file.js";
import { readBundleInput } from "../../trust/trust-files.js";

const schema = z.object({
  anchor: z.string({ error: "an anchor file is required (--anchor FILE)" }).min(1),
  at: atOption,
  "allow-weak": z.boolean().default(false),
  json: z.boolean().default(false),
});

const outputSchema = z.object({
  valid: z.boolean(),
  time: z.string(),
  certificates: z.array(
    certificateVerdictJson.extend({ path: z.array(z.string()) }),
  ),
  crls: z.array(
    z.object({
      issuer: z.string(),
      number: z.string().nullable(),
      thisUpdate: z.string(),
      nextUpdate: z.string().nullable(),
      status: z.enum(["valid", "invalid"]),
      code: z.string().optional(),
      reason: z.string(),
      revoked: z.array(z.string()),
    }),
  ),
});

const unreadable =
  (path: string): Unreadable =>
  (message, options) =>
    new CertificateError("INPUT_UNREADABLE", message, { ...options, detail: { source: path } });

/** A CRL as reported: its verdict, or the time-window refusal setup, refresh and bundle lint apply (bundle-rules.ts). */
type ReportedCrl = Pick<CrlVerdict, "crl" | "status" | "reason"> & { readonly code?: string };
type Report = Omit<BundleVerdict, "crls"> & { readonly crls: readonly ReportedCrl[] };

/** The verdict clients act on: a verified CRL outside its time window makes the bundle invalid. */
function withCrlWindow(verdict: BundleVerdict, time: Date): Report {
  const problems = crlWindowProblems(verdict, time);
  const crls = verdict.crls.map((entry): ReportedCrl => {
    const problem = problems.find((p) => p.crl === entry.crl);
    return problem ? { crl: entry.crl, status: "invalid", code: problem.code, reason: problem.message } : entry;
  });
  return { ...verdict, crls, valid: verdict.valid && problems.length === 0 };
}

function toJson(verdict: Report, time: Date): z.infer<typeof outputSchema> {
  return {
    valid: verdict.valid,
    time: time.toISOString(),
    certificates: verdict.certificates.map((v) => ({
      subject: v.certificate.subject,
      issuer: v.certificate.issuer,
      sha256: v.certificate.sha256,
      role: v.role,
      status: v.status,
      ...(v.code ? { code: v.code } : {}),
      reason: v.reason,
      notBefore: v.certificate.notBefore.toISOString(),
      notAfter: v.certificate.notAfter.toISOString(),
      path: (v.path ?? []).map((c) => c.sha256),
    })),
    crls: verdict.crls.map((c) => ({
      issuer: c.crl.issuer,
      number: c.crl.number === undefined ? null : c.crl.number.toString(),
      thisUpdate: c.crl.thisUpdate.toISOString(),
      nextUpdate: c.crl.nextUpdate?.toISOString() ?? null,
      status: c.status,
      ...(c.code ? { code: c.code } : {}),
      reason: c.reason,
      revoked: [...c.crl.revokedSerials],
    })),
  };
}

function toText(verdict: Report, bundlePath: string): string[] {
  const lines: string[] = [];
  for (const v of verdict.certificates) {
    lines.push(`${v.status.padEnd(7)}  ${v.role.padEnd(12)}  ${v.certificate.subject}`);
    lines.push(`         sha256 ${colonFingerprint(v.certificate.sha256)}`);
    lines.push(`         valid ${v.certificate.notBefore.toISOString()} .. ${v.certificate.notAfter.toISOString()}`);
    lines.push(`         ${v.reason}${v.code ? ` [${v.code}]` : ""}`);
  }
  for (const c of verdict.crls) lines.push(`crl ${c.status.padEnd(7)}  ${c.crl.issuer}${c.crl.number === undefined ? "" : ` #${c.crl.number}`}: ${c.reason}${c.code ? ` [${c.code}]` : ""}`);
  const bad = verdict.certificates.filter((v) => v.status === "invalid").length;
  lines.push(`${bundlePath}: ${verdict.certificates.length} certificate(s), ${bad} invalid${verdict.crls.length ? `, ${verdict.crls.length} CRL(s)` : ""}`);
  return lines;
}

export const command: Command = {
  name: "verify-bundle",
  summary: "Verify every certificate of a repository key bundle against an anchor file, with the reason for each.",
  usage: "verify-bundle BUNDLE --anchor FILE [--at ISO-TIME] [--allow-weak] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    const [bundlePath] = requirePositionals(positionals, ["BUNDLE"]) as [string];
    const bundle = await readBundleInput(bundlePath, context.cwd, unreadable(bundlePath));
    const anchors = (await readBundleInput(options.anchor, context.cwd, unreadable(options.anchor))).certificates;
    const time = options.at ?? context.now;
    // --allow-weak applies what pkg_install itself enforces: MD5/SHA-1 and short RSA keys pass.
    const verified = await verifyBundle(bundle, anchors, { time, policy: options["allow-weak"] ? PKG_INSTALL_POLICY : STRICT_POLICY });
    const verdict = withCrlWindow(verified, time);
    if (options.json) writeJson(context.stdout, outputSchema, toJson(verdict, time));
    else writeLines(context.stdout, toText(verdict, bundlePath));
    return verdict.valid ? EXIT.OK : EXIT.UNTRUSTED;
  },
};
