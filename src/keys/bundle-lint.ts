import { crlWindowProblems, MAX_BUNDLE_BYTES, requireUsableBundle } from "../trust/bundle-rules.js";
import { readBundle, verifyBundle, type BundleVerdict } from "../bundle/verify.js";
import { PkgtrustError } from "../errors.js";
import { STRICT_POLICY } from "../pki/policy.js";
import { signerNotes } from "../pki/signer.js";
import type { Anchor } from "../trust/anchor.js";

const DAY_MS = 86_400_000;

export interface Finding {
  readonly code: string;
  readonly message: string;
}

export interface LintOptions {
  readonly time: Date;
  /** Warn about certificates that expire within this many days. */
  readonly warnDays: number;
  /** Warn about CRLs whose nextUpdate is this close. */
  readonly crlWarnDays: number;
}

export interface LintReport {
  readonly errors: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** Absent when the file could not be read as a bundle at all. */
  readonly verdict?: BundleVerdict;
}

const days = (ms: number) => Math.floor(ms / DAY_MS);

/** What setup and refresh refuse, with their own codes: the checks clients run. */
function clientErrors(bytes: Uint8Array, source: string): { errors: Finding[]; bundle?: ReturnType<typeof readBundle> } {
  // setup.ts: larger bundles are refused unread (TUF endless data).
  if (bytes.length > MAX_BUNDLE_BYTES) return { errors: [{ code: "FETCH_TOO_LARGE", message: `${source} is ${bytes.length} bytes; clients refuse key bundles over ${MAX_BUNDLE_BYTES} bytes` }] };
  try {
    return { errors: [], bundle: readBundle(Buffer.from(bytes).toString("utf8"), source) };
  } catch (error) {
    if (error instanceof PkgtrustError) return { errors: [{ code: error.code, message: error.message }] };
    throw error;
  }
}

/**
 * The root's CRL is what revokes an intermediate (RFC 5280 6.3: no CRL, no revocation
 * status), and once clients have accepted one, a bundle without it is refused as a
 * rollback (rollback-guard.ts): warn for every anchor root that issued a bundle certificate.
 */
function missingRootCrls(verdict: BundleVerdict, anchor: Anchor): Finding[] {
  return anchor.roots
    .filter((root) => verdict.certificates.some((entry) => entry.certificate.issuerName === root.subjectName && entry.certificate.sha256 !== root.sha256))
    .filter((root) => !verdict.crls.some((entry) => entry.status === "valid" && entry.crl.issuerName === root.subjectName))
    .map((root) => ({
      code: "LINT_ROOT_CRL_MISSING",
      message: `the bundle carries no CRL of the anchor ${root.subject}: clients cannot learn of a revoked intermediate; add the root's CRL (pkgtrust keys crl at the next ceremony makes one)`,
    }));
}

/**
 * Lints a key bundle before publication: the exact checks clients run (size, PEM, every
 * certificate and CRL verified against the anchor, requireUsableBundle's foreign-root and
 * no-signer rules, the CRL time window), plus warnings about what will break soon.
 */
export async function lintBundle(bytes: Uint8Array, source: string, anchor: Anchor, options: LintOptions): Promise<LintReport> {
  const { errors, bundle } = clientErrors(bytes, source);
  if (!bundle) return { errors, warnings: [] };
  const warnings: Finding[] = [];
  const { time } = options;
  let verdict: BundleVerdict;
  try {
    verdict = await verifyBundle(bundle, anchor.certificates, { time, policy: STRICT_POLICY });
  } catch (error) {
    // CERT_SEARCH_LIMIT: clients refuse a bundle that exhausts the path-search budget as a whole.
    if (!(error instanceof PkgtrustError)) throw error;
    return { errors: [...errors, { code: error.code, message: error.message }], warnings };
  }
  try {
    requireUsableBundle(verdict, anchor);
  } catch (error) {
    if (!(error instanceof PkgtrustError)) throw error;
    errors.push({ code: error.code, message: error.message });
  }
  for (const entry of verdict.certificates) {
    const { certificate } = entry;
    if (entry.status === "invalid") {
      // Clients leave a revoked certificate out, which is what its CRL is for; anything else invalid is a publishing mistake.
      (entry.code === "CERT_REVOKED" ? warnings : errors).push({ code: entry.code ?? "CERT_INVALID", message: `${certificate.subject}: ${entry.reason}` });
    } else {
      const left = certificate.notAfter.getTime() - time.getTime();
      if (left <= options.warnDays * DAY_MS) warnings.push({ code: "LINT_EXPIRES_SOON", message: `${certificate.subject} expires on ${certificate.notAfter.toISOString()}, in ${days(left)} days` });
    }
    if (anchor.certificates.some((a) => a.sha256 === certificate.sha256)) {
      warnings.push({ code: "LINT_ANCHOR_IN_BUNDLE", message: `${certificate.subject} is the anchor itself; clients already have it in the base system` });
    }
    if (entry.role === "signing") {
      const issuers = [...bundle.certificates, ...anchor.certificates].filter((c) => c.subjectName === certificate.issuerName);
      if (issuers.length === 0) warnings.push({ code: "LINT_SIGNING_ISSUER_MISSING", message: `${certificate.subject}: its issuer ${certificate.issuer} is neither in the bundle nor the anchor file` });
      for (const note of signerNotes(certificate)) warnings.push({ code: "LINT_UNKNOWN_EKU", message: note });
    }
  }
  warnings.push(...missingRootCrls(verdict, anchor));
  // bundle-rules.ts: setup and refresh refuse a CRL outside its time window (TUF indefinite freeze).
  const outOfWindow = crlWindowProblems(verdict, time);
  for (const problem of outOfWindow) errors.push({ code: problem.code, message: `${problem.message}; setup and refresh refuse it${problem.code === "BOOT_STALE_CRL" ? ": renew it with 'pkgtrust keys crl'" : ""}` });
  for (const entry of verdict.crls) {
    const { crl } = entry;
    if (entry.status === "invalid") {
      errors.push({ code: entry.code ?? "CRL_INVALID", message: `CRL of ${crl.issuer}: ${entry.reason}` });
      continue;
    }
    if (crl.nextUpdate === undefined || outOfWindow.some((problem) => problem.crl === crl)) continue;
    const left = crl.nextUpdate.getTime() - time.getTime();
    if (left <= options.crlWarnDays * DAY_MS) {
      warnings.push({ code: "LINT_CRL_NEXT_UPDATE_SOON", message: `the CRL of ${crl.issuer} reaches its nextUpdate on ${crl.nextUpdate.toISOString()}, in ${days(left)} days` });
    }
  }
  return { errors, warnings, verdict };
}
