/**
 * The one chain OpenSSL 3.0's X509_verify_cert builds (crypto/x509/x509_vfy.c build_chain),
 * as pkg_install's PKCS7_verify call meets it: X509_V_FLAG_TRUSTED_FIRST (the default), no
 * DANE, no alternative chains to try (those are for untrusted-first only). OpenSSL commits to
 * one issuer per step and never backtracks, so a same-name decoy picked before the real CA
 * fails the package even when another path would verify; src/pki/path.ts searches every path
 * for pkgtrust's own bundle checks, this module gives pkg_install's package verdict.
 *
 * At each step, for the top certificate:
 * 1. the trust store first (X509_STORE_CTX_get1_issuer); once a store certificate is on the
 *    chain, only the store is searched; a self-signed store certificate ends the chain trusted
 *    (trust_compat); a self-signed top is trusted only when byte-equal to a store certificate;
 * 2. else the untrusted certificates (the signature's own, in order: find_issuer), each used once.
 * Among candidates (check_issued: issuer name equal to the subject name, X509_check_akid, a
 * signature algorithm of the issuer's key type, not already on the chain), the first valid at
 * the verification time wins, else the one with the latest notAfter (the first of equals).
 * Signatures, CA flags, purposes and the like are not looked at while building: the chain's
 * checks (path-checks.ts pathProblem) then pass or fail the chain as it is.
 */
import { keyIdentifiersMatch, signatureFitsKey, type Certificate } from "./certificate.js";
import { CertificateError, type CertificateErrorCode } from "./errors.js";
import { pathProblem } from "./path-checks.js";
import type { PathResult } from "./path.js";
import type { Policy } from "./policy.js";
import type { VerificationCache } from "./verification-cache.js";

/** X509_VERIFY_PARAM's default depth: intermediates allowed between the leaf and the anchor. */
export const OPENSSL_VERIFY_DEPTH = 100;

export interface OpenSslChainRequest {
  readonly leaf: Certificate;
  /** The certificates embedded in the signature (OpenSSL's untrusted stack), in order. */
  readonly untrusted: readonly Certificate[];
  /** The anchor file (the X509_STORE), in file order. */
  readonly trusted: readonly Certificate[];
  readonly time: Date;
}

export type OpenSslChain =
  | { readonly trusted: true; readonly chain: readonly Certificate[] /* leaf first, self-signed store certificate last */ }
  | { readonly trusted: false; readonly chain: readonly Certificate[]; readonly code: CertificateErrorCode; readonly message: string };

/**
 * ossl_x509_check_cert_time with depth -1: X509_cmp_time counts "equal" as "earlier", so a
 * certificate is valid from the second of its notBefore and expired at the second of its notAfter.
 */
export function validForOpenSsl(certificate: Certificate, time: Date): boolean {
  return certificate.notBefore.getTime() <= time.getTime() && time.getTime() < certificate.notAfter.getTime();
}

/** check_issued (3.0): ossl_x509_likely_issued, and the issuer not yet on the chain unless `child` is a self-issued leaf. */
function issued(child: Certificate, issuer: Certificate, chain: readonly Certificate[]): boolean {
  if (child.issuerName !== issuer.subjectName || !keyIdentifiersMatch(child, issuer) || !signatureFitsKey(child.signatureAlgorithm, issuer.publicKeyType)) return false;
  if (child.selfIssued && chain.length === 1) return true;
  return !chain.some((c) => c.sha256 === issuer.sha256);
}

/** find_issuer / X509_STORE_CTX_get1_issuer: the first time-valid candidate, else the latest to expire. */
function bestIssuer(candidates: readonly Certificate[], child: Certificate, chain: readonly Certificate[], time: Date): Certificate | undefined {
  let latest: Certificate | undefined;
  for (const candidate of candidates) {
    if (!issued(child, candidate, chain)) continue;
    if (validForOpenSsl(candidate, time)) return candidate;
    if (!latest || candidate.notAfter.getTime() > latest.notAfter.getTime()) latest = candidate;
  }
  return latest;
}

/** The X509_STORE's certificates: an identical one is added once; looked up by subject name, same-name ones in file order. */
function storeOrder(trusted: readonly Certificate[]): Certificate[] {
  const seen = new Set<string>();
  return trusted.filter((c) => !seen.has(c.sha256) && Boolean(seen.add(c.sha256)));
}

export function buildOpenSslChain(request: OpenSslChainRequest): OpenSslChain {
  const { leaf, time } = request;
  const store = storeOrder(request.trusted);
  const pool = [...request.untrusted];
  const chain: Certificate[] = [leaf];
  const maxDepth = OPENSSL_VERIFY_DEPTH + 1;
  let untrustedCount = 1; // ctx->num_untrusted
  let searchUntrusted = pool.length > 0;
  let searchTrusted = true;
  let trusted = false;

  while (searchUntrusted || searchTrusted) {
    const top = chain[chain.length - 1] as Certificate;
    if (searchTrusted) {
      const issuer = chain.length > maxDepth ? undefined : bestIssuer(store, top, chain, time);
      let found = issuer !== undefined;
      if (issuer && !top.selfSigned) chain.push(issuer);
      else if (issuer) {
        // A self-signed certificate with an anchor's name must be that anchor, byte for byte (no key substitution).
        if (issuer.sha256 === top.sha256) {
          chain[chain.length - 1] = issuer;
          untrustedCount = chain.length - 1;
        } else found = false;
      }
      if (found) {
        searchUntrusted = false;
        // check_trust: a store certificate is trusted when self-signed (trust_compat, no PARTIAL_CHAIN).
        trusted = (chain[chain.length - 1] as Certificate).selfSigned;
        if (trusted) break;
        continue;
      }
      if (!searchUntrusted) break;
    }
    const issuer = top.selfSigned || chain.length > maxDepth ? undefined : bestIssuer(pool, top, chain, time);
    if (!issuer) {
      searchUntrusted = false;
      searchTrusted = true;
      continue;
    }
    pool.splice(pool.indexOf(issuer), 1);
    chain.push(issuer);
    untrustedCount++;
  }
  if (trusted) return { trusted: true, chain };
  const top = chain[chain.length - 1] as Certificate;
  const failed = (code: CertificateErrorCode, message: string): OpenSslChain => ({ trusted: false, chain, code, message: `"${top.subject}" ${message}` });
  if (chain.length > maxDepth) return failed("CERT_PATH_TOO_LONG", `is more than ${OPENSSL_VERIFY_DEPTH} intermediates from the signer (OpenSSL's verify depth)`);
  if (top.selfSigned) return failed("CERT_UNTRUSTED_ROOT", "is a self-signed root that is not in the anchor file");
  const where = untrustedCount < chain.length ? "in the anchor file" : "in the signature or the anchor file";
  return failed("CERT_NO_ISSUER", `has no issuer "${top.issuer}" ${where} (OpenSSL's chain building)`);
}

/**
 * X509_verify_cert as PKCS7_verify runs it for pkg_install (purpose smime_sign): the one chain
 * built, then its checks (path-checks.ts, with OpenSSL's validity bounds).
 */
export function pkgInstallPath(request: OpenSslChainRequest & { readonly policy: Policy; readonly cache?: VerificationCache }): PathResult {
  const built = buildOpenSslChain(request);
  if (!built.trusted) {
    const top = built.chain[built.chain.length - 1] as Certificate;
    const error = new CertificateError(built.code, built.message, { detail: { subject: top.subject, sha256: top.sha256, depth: built.chain.length - 1 } });
    return { ok: false, error, path: built.chain, explored: built.chain.length };
  }
  const problem = pathProblem(built.chain, { time: request.time, policy: request.policy, purpose: "smime-sign", validity: "openssl", ...(request.cache ? { cache: request.cache } : {}) });
  return problem ? { ok: false, error: problem, path: built.chain, explored: built.chain.length } : { ok: true, path: built.chain, explored: built.chain.length };
}
