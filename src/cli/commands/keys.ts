import { z } from "zod";
import { EXIT } from "../../errors.js";
import { loadCa, type LoadedCa } from "../../keys/ca.js";
import { readIfPresent, requireAbsent, writeKeyPair } from "../../keys/files.js";
import { writeFileAtomic } from "../../config/atomic-file.js";
import { createRootCa, issueIntermediate, issueSigning, KEY_ALGORITHMS, type KeyAndCertificate } from "../../keys/issue.js";
import { OperatorError } from "../../keys/operator-errors.js";
import { defaultCrlPath, defaultNextUpdateDays, NEXT_UPDATE_DAYS, parseSerial, readExistingCrl, signNextCrl } from "../../keys/revoke.js";
import { requireOutputFile } from "../../output-file.js";
import { parseCertificate, type Certificate } from "../../pki/certificate.js";
import { readPem } from "../../pki/pem.js";
import type { Command, CommandContext, Subcommand } from "../command.js";
import { groupSummary, groupUsage, runSubcommand } from "../group.js";
import { parseCommandLine, requirePositionals, type OptionSchema } from "../options.js";
import { writeJson, writeLines } from "../output.js";
import { colonFingerprint } from "../../format.js";

/** Default lifetimes in days (see the summary below for the signing one). */
export const DEFAULT_DAYS = { root: 7300, intermediate: 1825, signing: 90 } as const;

const DAY_MS = 86_400_000;

const count = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const required = (flag: string, what: string) => z.string({ error: `${what} is required (--${flag})` }).min(1, `--${flag} must not be empty`);
const days = (fallback: number) => count("--days", 1, 36500).default(fallback);
const keyType = z.enum(KEY_ALGORITHMS, { error: `--key-type must be ${KEY_ALGORITHMS.join(" or ")}` }).default("ec-p256");

const outputs = { cn: required("cn", "a common name"), "out-cert": required("out-cert", "the certificate file"), "out-key": required("out-key", "the private key file"), "key-type": keyType, json: z.boolean().default(false) };
const issuer = { "ca-cert": required("ca-cert", "the issuing CA's certificate"), "ca-key": required("ca-key", "the issuing CA's private key") };
/** --next-update-days defaults by CA (NEXT_UPDATE_DAYS): a year for the offline root, 30 days below it. */
const crlOptions = { crl: z.string().min(1).optional(), "next-update-days": count("--next-update-days", 1, 3650).optional(), json: z.boolean().default(false) };

const schemas = {
  "init-ca": z.object({ ...outputs, days: days(DEFAULT_DAYS.root) }),
  "issue-intermediate": z.object({ ...outputs, ...issuer, days: days(DEFAULT_DAYS.intermediate), "path-length": count("--path-length", 0, 8).default(0) }),
  "issue-signing": z.object({ ...outputs, ...issuer, days: days(DEFAULT_DAYS.signing) }),
  revoke: z.object({ ...issuer, ...crlOptions, serial: required("serial", "the serial number to revoke") }),
  crl: z.object({ ...issuer, ...crlOptions }),
};
type Action = keyof typeof schemas;

const certificateJson = z.object({
  path: z.string(),
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string().regex(/^[0-9a-f]+$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  notBefore: z.string(),
  notAfter: z.string(),
});
const issuedSchema = z.object({
  action: z.enum(["init-ca", "issue-intermediate", "issue-signing"]),
  certificate: certificateJson,
  key: z.object({ path: z.string(), type: z.enum(KEY_ALGORITHMS), mode: z.literal("0600") }),
  warnings: z.array(z.string()),
});
const revokedSchema = z.object({
  action: z.enum(["revoke", "crl"]),
  crl: z.string(),
  issuer: z.string(),
  /** The serial revoke was given; absent for crl. */
  serialNumber: z.string().optional(),
  alreadyRevoked: z.boolean(),
  number: z.string(),
  thisUpdate: z.string(),
  nextUpdate: z.string(),
  revoked: z.array(z.string()),
});

function parse<S extends OptionSchema>(argv: readonly string[], schema: S): z.infer<S> {
  const { options, positionals } = parseCommandLine(argv.slice(1), schema);
  requirePositionals(positionals, []);
  return options;
}

/** Warnings about a new certificate that would stop verifying before its own notAfter. */
function lifetimeWarnings(issued: Certificate, ca: LoadedCa | undefined): string[] {
  if (!ca || issued.notAfter.getTime() <= ca.certificate.notAfter.getTime()) return [];
  return [`${issued.subject} is valid until ${issued.notAfter.toISOString()} but its issuer only until ${ca.certificate.notAfter.toISOString()}: chains through it fail from then on`];
}

async function report(context: CommandContext, action: z.infer<typeof issuedSchema>["action"], options: { "out-cert": string; "out-key": string; "key-type": z.infer<typeof keyType>; json: boolean }, issued: KeyAndCertificate, ca?: LoadedCa): Promise<number> {
  const [block] = readPem(issued.certificatePem, { source: options["out-cert"], labels: ["CERTIFICATE"] });
  const certificate = parseCertificate((block as { der: Uint8Array }).der, options["out-cert"]);
  const warnings = lifetimeWarnings(certificate, ca);
  if (options.json) {
    writeJson(context.stdout, issuedSchema, {
      action,
      certificate: {
        path: options["out-cert"],
        subject: certificate.subject,
        issuer: certificate.issuer,
        serialNumber: certificate.serialNumber,
        sha256: certificate.sha256,
        notBefore: certificate.notBefore.toISOString(),
        notAfter: certificate.notAfter.toISOString(),
      },
      key: { path: options["out-key"], type: options["key-type"], mode: "0600" },
      warnings,
    });
  } else {
    writeLines(context.stdout, [
      `${options["out-cert"]}: ${certificate.subject}`,
      `  issuer   ${certificate.issuer}`,
      `  serial   ${certificate.serialNumber}`,
      `  sha256   ${colonFingerprint(certificate.sha256)}`,
      `  valid    ${certificate.notBefore.toISOString()} .. ${certificate.notAfter.toISOString()}`,
      `${options["out-key"]}: ${options["key-type"]} private key, mode 0600`,
      ...warnings.map((w) => `warning: ${w}`),
    ]);
  }
  return EXIT.OK;
}

/** Before a key is generated: both outputs are new files in writable directories. */
async function requireNewOutputs(options: { "out-cert": string; "out-key": string }, cwd: string): Promise<void> {
  for (const path of [options["out-cert"], options["out-key"]]) await requireOutputFile(path, cwd);
  await requireAbsent([options["out-cert"], options["out-key"]], cwd);
}

async function initCa(context: CommandContext): Promise<number> {
  const options = parse(context.argv, schemas["init-ca"]);
  await requireNewOutputs(options, context.cwd);
  const issued = await createRootCa({ commonName: options.cn, days: options.days, algorithm: options["key-type"], now: context.now });
  await writeKeyPair({ cert: options["out-cert"], key: options["out-key"] }, context.cwd, issued);
  return report(context, "init-ca", options, issued);
}

async function issueBelowCa(context: CommandContext, action: "issue-intermediate" | "issue-signing"): Promise<number> {
  const options =
    action === "issue-intermediate"
      ? parse(context.argv, schemas[action])
      : { ...parse(context.argv, schemas[action]), "path-length": undefined };
  await requireNewOutputs(options, context.cwd);
  const ca = await loadCa({ cert: options["ca-cert"], key: options["ca-key"] }, context.cwd, context.now);
  const request = { commonName: options.cn, days: options.days, algorithm: options["key-type"], now: context.now };
  let issued: KeyAndCertificate;
  if (action === "issue-intermediate") {
    // RFC 5280 4.2.1.9: pathLenConstraint 0 allows no CA below; OpenSSL fails such a chain with "path length constraint exceeded".
    if (ca.certificate.basicConstraints?.pathLength === 0) {
      throw new OperatorError("KEYS_CA_PATH_LENGTH", `${ca.certificate.subject} has path length 0 and cannot issue CA certificates`, { detail: { subject: ca.certificate.subject } });
    }
    issued = await issueIntermediate(ca, { ...request, pathLength: options["path-length"] ?? 0 });
  } else {
    issued = await issueSigning(ca, request);
  }
  await writeKeyPair({ cert: options["out-cert"], key: options["out-key"] }, context.cwd, issued);
  return report(context, action, options, issued, ca);
}

/** revoke and crl: the CA's next CRL, with `serial` added when given. */
async function signCrl(context: CommandContext, action: "revoke" | "crl"): Promise<number> {
  const options: z.infer<(typeof schemas)["crl"]> & { serial?: string } = parse(context.argv, schemas[action]);
  const serial = options.serial === undefined ? undefined : parseSerial(options.serial);
  const crlPath = options.crl ?? defaultCrlPath(options["ca-cert"]);
  const crlFile = await requireOutputFile(crlPath, context.cwd);
  const ca = await loadCa({ cert: options["ca-cert"], key: options["ca-key"] }, context.cwd, context.now);
  // RFC 5280 6.3.3 (f): clients check a CRL signer's keyUsage for cRLSign (src/bundle/crls.ts).
  if (ca.certificate.keyUsage && !ca.certificate.keyUsage.includes("cRLSign")) {
    throw new OperatorError("KEYS_CA_NOT_CRL_SIGNER", `${ca.certificate.subject} may not sign CRLs (its keyUsage lacks cRLSign)`, { detail: { subject: ca.certificate.subject } });
  }
  const existing = await readIfPresent(crlPath, context.cwd);
  const previous = existing === undefined ? undefined : await readExistingCrl(existing, crlPath, ca);
  const nextUpdateDays = options["next-update-days"] ?? defaultNextUpdateDays(ca);
  const signed = await signNextCrl({ ca, ...(serial === undefined ? {} : { serial }), ...(previous ? { previous } : {}), now: context.now, nextUpdateDays });
  await writeFileAtomic(crlFile, Buffer.from(signed.pem), 0o644);
  const { crl } = signed;
  const nextUpdate = (crl.nextUpdate ?? new Date(context.now.getTime() + nextUpdateDays * DAY_MS)).toISOString();
  if (options.json) {
    writeJson(context.stdout, revokedSchema, {
      action,
      crl: crlPath,
      issuer: crl.issuer,
      ...(serial === undefined ? {} : { serialNumber: serial }),
      alreadyRevoked: signed.alreadyRevoked,
      number: String(crl.number ?? 0n),
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate,
      revoked: [...crl.revokedSerials],
    });
  } else {
    const what =
      serial === undefined
        ? `  renewed${previous ? "" : " (a new, empty CRL)"}: no serial added`
        : signed.alreadyRevoked
          ? `  serial ${serial} was already revoked; the CRL was signed again`
          : `  revoked serial ${serial}`;
    writeLines(context.stdout, [
      `${crlPath}: CRL number ${crl.number ?? 0n} of ${crl.issuer}, ${crl.revokedSerials.size} revoked, next update ${nextUpdate}`,
      what,
      "  publish it: rebuild the key bundle with 'pkgtrust bundle build' and copy pkg_keys.pem to the repository",
    ]);
  }
  return EXIT.OK;
}

const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "init-ca",
    usage: "keys init-ca --cn NAME --out-cert FILE --out-key FILE [--days N] [--key-type ec-p256|rsa-3072] [--json]",
    summary: `the root, installed in the base system as the anchor (default ${DEFAULT_DAYS.root} days).`,
  },
  {
    name: "issue-intermediate",
    usage: "keys issue-intermediate --ca-cert FILE --ca-key FILE --cn NAME --out-cert FILE --out-key FILE [--path-length N] [--days N] [--key-type T] [--json]",
    summary: `a developer or master CA: CA:TRUE with --path-length (default 0: it issues build certificates only; 1 for a master CA that issues developer CAs), keyCertSign and cRLSign (default ${DEFAULT_DAYS.intermediate} days).`,
  },
  {
    name: "issue-signing",
    usage: "keys issue-signing --ca-cert FILE --ca-key FILE --cn NAME --out-cert FILE --out-key FILE [--days N] [--key-type T] [--json]",
    summary: `a build-machine certificate pkg_install accepts: CA:FALSE, digitalSignature, extended key usage exactly codeSigning + emailProtection. Short-lived (default ${DEFAULT_DAYS.signing} days) because pkg_install consults no CRL: expiry is what limits a stolen build key on systems that are not refreshed.`,
  },
  {
    name: "revoke",
    usage: "keys revoke --ca-cert FILE --ca-key FILE --serial HEX [--crl FILE] [--next-update-days N] [--json]",
    summary: `add --serial (hex; 0x and colons allowed) to the CA's CRL, or create it; the CRL number goes up by one, nextUpdate is --next-update-days away (default ${NEXT_UPDATE_DAYS.root} for a root, whose key is offline, ${NEXT_UPDATE_DAYS.intermediate} for an intermediate). The CRL defaults to the CA certificate's file name with .crl.pem for its extension, beside it (dev-ca.pem: dev-ca.crl.pem); an existing one must be this CA's. No record of issued serials is kept, so any serial is accepted.`,
  },
  {
    name: "crl",
    usage: "keys crl --ca-cert FILE --ca-key FILE [--crl FILE] [--next-update-days N] [--json]",
    summary: "renew the CA's CRL without revoking anything (or create an empty one): the same entries, the CRL number one higher, a fresh thisUpdate and nextUpdate (defaults as for revoke). Run it before nextUpdate: refresh refuses a CRL past it.",
  },
];

const HANDLERS: Record<Action, (context: CommandContext) => Promise<number>> = {
  "init-ca": initCa,
  "issue-intermediate": (context) => issueBelowCa(context, "issue-intermediate"),
  "issue-signing": (context) => issueBelowCa(context, "issue-signing"),
  revoke: (context) => signCrl(context, "revoke"),
  crl: (context) => signCrl(context, "crl"),
};

export const command: Command = {
  name: "keys",
  summary: groupSummary(
    "Issue the certificates of a package-signing PKI, revoke them and renew CRLs.",
    SUBCOMMANDS,
    "Keys are ECDSA P-256 (default) or RSA 3072 (--key-type), signatures SHA-256. Private keys are created with mode 0600; an existing key or certificate file is never overwritten (a CRL file is replaced by its successor).",
  ),
  usage: groupUsage(SUBCOMMANDS),
  subcommands: SUBCOMMANDS,
  run: (context) => runSubcommand("keys", context, HANDLERS),
};
