import type { Certificate } from "../pki/certificate.js";
import { parseCertificate } from "../pki/certificate.js";
import { pkgInstallPath } from "../pki/openssl-chain.js";
import { findTrustedPath, STRICT_POLICY, type Policy } from "../pki/path.js";
import { VerificationCache } from "../pki/verification-cache.js";
import { packageSignerProblem, signerNotes } from "../pki/signer.js";
import type { VerifiedSigner } from "./pkcs7-signature.js";
import { WEAK_DIGESTS } from "./pkcs7-signature.js";

/**
 * The trust decision pkg_install makes once the signature itself checks out
 * (lib/pkcs7.c easy_pkcs7_verify), emulating the OpenSSL 3.0 of NetBSD 10, plus the
 * answer a newer OpenSSL would give.
 */

export interface PackageTrust {
  /** CERTIFICATE_ANCHOR_PKGS: the trust store. */
  readonly anchors: readonly Certificate[];
  /** CERTIFICATE_CHAIN: the `certs` argument of PKCS7_verify. */
  readonly chain: readonly Certificate[];
}

export interface TrustAnswer {
  readonly trusted: boolean;
  readonly code?: string;
  readonly reason: string;
  /** The first signer and its path (leaf first, anchor last) when trusted. */
  readonly signer?: Certificate;
  readonly path?: readonly Certificate[];
}

export interface TrustDecision extends TrustAnswer {
  readonly signers: readonly Certificate[];
  /** Set when a newer OpenSSL (which also builds chains from CERTIFICATE_CHAIN) would decide differently. */
  readonly newerOpenSSL?: TrustAnswer;
  readonly warnings: readonly string[];
}

interface Context {
  readonly trust: PackageTrust;
  readonly time: Date;
  readonly policy: Policy;
  readonly cache: VerificationCache;
}

function answer(signers: readonly { cert: Certificate; embedded: boolean }[], untrusted: readonly Certificate[], context: Context, policy: Policy): TrustAnswer {
  const paths: (readonly Certificate[])[] = [];
  // PKCS7_verify checks every signer's chain first (purpose smime_sign, flags 0: no CRLs).
  for (const { cert } of signers) {
    const refused = chainRefusal(cert, untrusted, context, policy);
    if ("code" in refused) return { trusted: false, code: refused.code, reason: `${cert.subject}: ${refused.reason}`, signer: cert };
    paths.push(refused.path);
  }
  for (const { cert, embedded } of signers) {
    // pkg_install then calls PKCS7_get0_signers(p7, NULL, 0): without CERTIFICATE_CHAIN, so a
    // signer found only there makes it fail ("Failed to get signers").
    if (!embedded) {
      return { trusted: false, code: "PKG_SIGNER_NOT_EMBEDDED", reason: `${cert.subject}: the signing certificate is only in CERTIFICATE_CHAIN, and pkg_install looks for signers in the signature only`, signer: cert };
    }
    // pkg_install: a signer must not be a CA and must have exactly codeSigning + emailProtection.
    const problem = packageSignerProblem(cert);
    if (problem) return { trusted: false, code: problem.code, reason: `${cert.subject}: ${problem.message}`, signer: cert };
  }
  const first = signers[0];
  return { trusted: true, reason: `signed by ${signers.map((s) => s.cert.subject).join("; ")}, chaining to ${paths[0]?.at(-1)?.subject ?? "?"}`, signer: first?.cert, path: paths[0] };
}

/**
 * PKCS7_verify's X509_verify_cert: OpenSSL 3.0 builds one chain, without backtracking
 * (src/pki/openssl-chain.ts), and then checks it. When that chain fails but a search over
 * every candidate would have found a trusted path, the reason says so.
 */
function chainRefusal(leaf: Certificate, untrusted: readonly Certificate[], context: Context, policy: Policy): { path: readonly Certificate[] } | { code: string; reason: string } {
  const request = { leaf, untrusted, trusted: context.trust.anchors, time: context.time, policy, cache: context.cache };
  const result = pkgInstallPath(request);
  if (result.ok) return { path: result.path };
  const searched = findTrustedPath({ ...request, purpose: "smime-sign", untrustedSource: "the signature or CERTIFICATE_CHAIN" });
  const other = searched.ok ? ` (pkg_install's OpenSSL 3.0 takes one issuer per step, here ${issuerNames(result.path ?? [])}; another path, ${issuerNames(searched.path)}, would verify)` : "";
  return { code: result.error.code, reason: `${result.error.message}${other}` };
}

const issuerNames = (path: readonly Certificate[]) => path.map((c) => `"${c.subject}" (${c.sha256.slice(0, 12)})`).join(" issued by ");

/**
 * Decides trust for signers whose signatures already verified. `embedded` are the
 * certificates inside the signature: under OpenSSL 3.0 they and the anchors are all the
 * chain builder sees; CERTIFICATE_CHAIN only helps to find the signer (domain.md section 2).
 */
export function decideTrust(verified: readonly VerifiedSigner[], embedded: readonly Uint8Array[], trust: PackageTrust, options: { time: Date; policy: Policy; cache?: VerificationCache }): TrustDecision {
  const cache = options.cache ?? new VerificationCache();
  const context: Context = { trust, time: options.time, policy: options.policy, cache };
  const signers = verified.map((v) => ({ cert: parseCertificate(v.certificate, "+PKG_SIGNATURE", undefined, cache), embedded: v.embedded }));
  const embeddedCerts = embedded.map((der) => parseCertificate(der, "+PKG_SIGNATURE", undefined, cache));
  const openssl30 = answer(signers, embeddedCerts, context, options.policy);
  const newer = answer(signers, [...embeddedCerts, ...trust.chain], context, options.policy);
  const warnings: string[] = [];
  for (const v of verified) {
    if (WEAK_DIGESTS.has(v.digest)) warnings.push(`the signature uses ${v.digest}, which pkg_install accepts but no longer resists collisions`);
  }
  if (openssl30.trusted) for (const signer of signers) warnings.push(...signerNotes(signer.cert));
  // A policy that lets weak algorithms through (pkg_install's) still says what the strict one would refuse.
  if (openssl30.trusted && !options.policy.rejectWeakAlgorithms) {
    const strict = answer(signers, embeddedCerts, context, STRICT_POLICY);
    if (!strict.trusted) warnings.push(`accepted by pkg_install, but weak: ${strict.reason}`);
  }
  const differs = newer.trusted !== openssl30.trusted;
  return { ...openssl30, signers: signers.map((s) => s.cert), warnings, ...(differs ? { newerOpenSSL: newer } : {}) };
}
