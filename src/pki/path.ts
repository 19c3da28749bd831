/**
 * Certification path building the way OpenSSL 3.0's X509_verify_cert does it when
 * pkg_install calls PKCS7_verify (shared/domain.md section 2), plus pkgtrust's policy.
 * Unlike OpenSSL, which commits to one issuer per step, every candidate path is searched
 * (depth-first with backtracking), so a bad certificate sharing a good one's name cannot
 * hide the good path.
 *
 * Searching every path is exponential in a hostile bundle (two groups of CAs issuing each
 * other without key identifiers), so the search skips a branch when per-certificate bounds,
 * memoised for the whole PathSearch, prove that it can neither reach a trusted path nor
 * record a better failed attempt than the one already found; the answer is the same as the
 * full search's. What the bounds cannot prune is capped by a SearchBudget (CERT_SEARCH_LIMIT).
 */
import { keyIdentifiersMatch, signedBy, type Certificate } from "./certificate.js";
import { CertificateError } from "./errors.js";
import { certificatePasses, fail, pathProblem, revoked, within, type PathContext } from "./path-checks.js";
import { SearchBudget } from "./search-budget.js";
import { VerificationCache } from "./verification-cache.js";

export { MIN_RSA_BITS, PKG_INSTALL_POLICY, STRICT_POLICY, type Policy } from "./policy.js";
export { PATH_SEARCH_LIMITS, SearchBudget, type PathSearchLimits } from "./search-budget.js";

/** Longest path searched, in certificates (leaf and anchor included). */
export const MAX_PATH_LENGTH = 10;

export interface PathSearchRequest extends PathContext {
  /** May be used as intermediates. */
  readonly untrusted: readonly Certificate[];
  /** The anchor file; only a self-signed one ends a path. */
  readonly trusted: readonly Certificate[];
  /** The work allowed; searches sharing one budget share its limits. Default: a new budget of PATH_SEARCH_LIMITS. */
  readonly budget?: SearchBudget;
  /** Where the untrusted certificates come from, for messages: "the bundle", "the signature or CERTIFICATE_CHAIN". */
  readonly untrustedSource?: string;
}

export interface PathRequest extends PathSearchRequest {
  readonly leaf: Certificate;
}

export type PathResult =
  | { ok: true; path: readonly Certificate[] /* leaf first, anchor last */; explored: number }
  | { ok: false; error: CertificateError; path?: readonly Certificate[] /* the best failed attempt */; explored: number };

/** How far a failed attempt got; a higher rank is a better attempt, then a longer path. */
const NO_ISSUER = 0;
const BAD_SIGNATURE = 1;
const UNTRUSTED_ROOT = 2;
const FAILED_AT_ANCHOR = 3;

interface Attempt {
  readonly error: CertificateError;
  readonly path: readonly Certificate[];
  readonly rank: number;
}

const better = (a: { rank: number; length: number }, b: Attempt | undefined) =>
  !b || a.rank > b.rank || (a.rank === b.rank && a.length > b.path.length);

/** A possible issuer of a certificate: X509_check_issued's name and key identifier match, and whether its key verifies the signature. */
interface Link {
  readonly issuer: Certificate;
  readonly signed: boolean;
}

/** Per rank, the longest failed attempt a branch could record (-1: none). */
type Reach = readonly [number, number, number, number];

/** The candidate issuers of every certificate, with their signature verdicts: computed once, shared by the searches of a bundle. */
class IssuerGraph {
  readonly budget: SearchBudget;
  private readonly time: Date;
  private readonly bySubject = new Map<string, Certificate[]>();
  readonly trusted: ReadonlySet<string>;
  private readonly links = new Map<Certificate, readonly Link[]>();
  private readonly cache: VerificationCache | undefined;

  constructor(request: PathSearchRequest) {
    this.budget = request.budget ?? new SearchBudget();
    this.cache = request.cache;
    this.time = request.time;
    const seen = new Set<string>();
    // OpenSSL looks in the trust store first, then the untrusted certificates.
    for (const certificate of [...request.trusted, ...request.untrusted]) {
      if (seen.has(certificate.sha256)) continue;
      seen.add(certificate.sha256);
      const list = this.bySubject.get(certificate.subjectName) ?? [];
      list.push(certificate);
      this.bySubject.set(certificate.subjectName, list);
    }
    this.trusted = new Set(request.trusted.map((c) => c.sha256));
  }

  /** Certificates named as `child`'s issuer, whatever their key. */
  namesakes(child: Certificate): readonly Certificate[] {
    return (this.bySubject.get(child.issuerName) ?? []).filter((c) => c !== child);
  }

  /** X509_check_issued's candidates for `child`'s issuer, in OpenSSL's order, with their signature verdicts. */
  linksOf(child: Certificate): readonly Link[] {
    let links = this.links.get(child);
    if (links) return links;
    // Issuer name equal to the subject name (canonical, as X509_NAME_cmp), key identifiers compatible.
    const candidates = (this.bySubject.get(child.issuerName) ?? []).filter((c) => c !== child && keyIdentifiersMatch(child, c));
    this.budget.spend("candidates", candidates.length);
    this.budget.spend("signatures", candidates.length);
    // Like OpenSSL's get_issuer, try issuers valid at the verification time first.
    candidates.sort((a, b) => Number(within(b, this.time)) - Number(within(a, this.time)));
    links = candidates.map((issuer) => ({ issuer, signed: signedBy(child, issuer, this.cache) }));
    this.links.set(child, links);
    return links;
  }
}

/**
 * Path searches over one set of candidates and one context, e.g. every certificate of a key
 * bundle: the candidate links and the bounds are computed once for all of them.
 */
export class PathSearch {
  private readonly request: PathSearchRequest;
  private readonly graph: IssuerGraph;
  private readonly budget: SearchBudget;
  private readonly trusted: ReadonlySet<string>;
  private readonly reaches = new Map<Certificate, Reach[]>();
  private readonly successes = new Map<Certificate, boolean[]>();

  /** `graph`: the candidates of the search this one is derived from (withRevocation). */
  private constructor(request: PathSearchRequest, graph: IssuerGraph) {
    this.request = request;
    this.graph = graph;
    this.budget = graph.budget;
    this.trusted = graph.trusted;
  }

  static over(request: PathSearchRequest): PathSearch {
    const withCache = request.cache ? request : { ...request, cache: new VerificationCache() };
    return new PathSearch(withCache, new IssuerGraph(withCache));
  }

  /** The same search with revocation checked (the bundle's CRLs, once verified): same candidates and budget, new bounds. */
  withRevocation(isRevoked: NonNullable<PathContext["isRevoked"]>): PathSearch {
    return new PathSearch({ ...this.request, isRevoked }, this.graph);
  }

  /**
   * Why `top` has no issuer. A certificate of the issuer's name whose key identifiers differ
   * is no candidate (X509_check_issued, RFC 5280 4.2.1.1): say that the names match and the
   * keys do not, the mark of a look-alike root or of the wrong anchor file.
   */
  private noIssuer(top: Certificate, path: readonly Certificate[]): string {
    const namesake = this.graph.namesakes(top).find((c) => !path.includes(c));
    const source = this.request.untrustedSource ?? "the certificates given";
    if (namesake === undefined) return `has no issuer "${top.issuer}" in ${source} or the anchor file`;
    const where = this.trusted.has(namesake.sha256) ? "the anchor file" : source;
    return `names its issuer "${top.issuer}", and ${where} holds a certificate of that name, but the names match and the keys do not`;
  }

  /** The first trusted path in OpenSSL's candidate order, else the best failed attempt. */
  find(leaf: Certificate): PathResult {
    const context = this.request;
    const path: Certificate[] = [leaf];
    // Per path index: whether the certificates up to it pass their checks as intermediates (or leaf), with the links between them.
    const prefixPasses: boolean[] = [certificatePasses(leaf, { index: 0, last: false, below: 0 }, context)];
    // Per path index: OpenSSL's plen there, the non-self-issued intermediates below it.
    const belowAt: number[] = [0];
    let best: Attempt | undefined;
    let explored = 0;
    // The error is made only for an attempt better than `best`: a hostile bundle fails
    // hundreds of thousands of branches, and building an Error (its stack) for each cost seconds.
    const record = (rank: number, error: () => CertificateError, attempt: readonly Certificate[] = path) => {
      if (!better({ rank, length: attempt.length }, best)) return;
      best = { rank, error: error(), path: [...attempt] };
    };

    const search = (): readonly Certificate[] | undefined => {
      explored++;
      this.budget.spend("steps");
      const top = path[path.length - 1] as Certificate;
      const depth = path.length - 1;
      if (top.selfSigned) {
        // Only a self-signed certificate byte-equal to one in the anchor file ends a path;
        // no partial chains (pkg_install does not set X509_V_FLAG_PARTIAL_CHAIN).
        if (!this.trusted.has(top.sha256)) {
          record(UNTRUSTED_ROOT, () => fail("CERT_UNTRUSTED_ROOT", top, "is a self-signed root that is not in the anchor file", depth));
          return undefined;
        }
        const problem = pathProblem(path, context);
        if (!problem) return [...path];
        record(FAILED_AT_ANCHOR, () => problem);
        return undefined;
      }
      // OpenSSL's find_issuer skips certificates already on the chain.
      const links = this.graph.linksOf(top).filter((link) => !path.includes(link.issuer));
      if (links.length === 0) {
        record(NO_ISSUER, () => fail("CERT_NO_ISSUER", top, this.noIssuer(top, path), depth));
        return undefined;
      }
      if (path.length >= MAX_PATH_LENGTH) {
        record(NO_ISSUER, () => fail("CERT_PATH_TOO_LONG", top, `is ${MAX_PATH_LENGTH} certificates from the leaf; pkgtrust searches no further`, depth));
        return undefined;
      }
      const index = path.length;
      const below = (belowAt[depth] as number) + (depth >= 1 && !top.selfIssued ? 1 : 0);
      for (const { issuer, signed } of links) {
        this.budget.spend("candidates");
        if (!signed) {
          record(BAD_SIGNATURE, () => fail("CERT_BAD_SIGNATURE", top, `has a signature that does not verify with the key of "${issuer.subject}"`, depth), [...path, issuer]);
          continue;
        }
        const linkPasses = (prefixPasses[depth] as boolean) && !revoked(top, issuer, context);
        // The branch is skipped only when it can hold no trusted path and no attempt better than `best`: the answer stays the full search's.
        if (!(linkPasses && this.succeeds(issuer, index, below)) && !improves(this.reach(issuer, index), best)) continue;
        path.push(issuer);
        prefixPasses.push(linkPasses && certificatePasses(issuer, { index, last: false, below }, context));
        belowAt.push(below);
        const found = search();
        path.pop();
        prefixPasses.pop();
        belowAt.pop();
        if (found) return found;
      }
      return undefined;
    };

    try {
      const found = search();
      if (found) return { ok: true, path: found, explored };
    } catch (error) {
      if (error instanceof CertificateError && error.code === "CERT_SEARCH_LIMIT") return { ok: false, error, explored };
      throw error;
    }
    const attempt = best as Attempt; // search() records a failure on every unsuccessful branch
    return { ok: false, error: attempt.error, path: attempt.path, explored };
  }

  /**
   * Whether some path continuing from `cert` at `index` (with `below` intermediates under it)
   * passes every check of its own certificates and links up to a trusted anchor. Paths may
   * repeat certificates here, which the search never does: an upper bound, memoised per
   * certificate, index and below, which is all the checks above `index` depend on.
   */
  private succeeds(cert: Certificate, index: number, below: number): boolean {
    const memo = this.successes.get(cert) ?? [];
    const key = index * MAX_PATH_LENGTH + below;
    const known = memo[key];
    if (known !== undefined) return known;
    this.budget.spend("steps");
    const last = cert.selfSigned;
    let result: boolean;
    if (this.reach(cert, index)[FAILED_AT_ANCHOR] < 0 || !certificatePasses(cert, { index, last, below }, this.request)) result = false;
    else if (last) result = true; // reach() says it is a trusted anchor
    else {
      const next = below + (cert.selfIssued ? 0 : 1);
      result = this.graph.linksOf(cert).some((link) => link.signed && !revoked(cert, link.issuer, this.request) && this.succeeds(link.issuer, index + 1, next));
    }
    memo[key] = result;
    this.successes.set(cert, memo);
    return result;
  }

  /** The longest failed attempt of each rank a branch from `cert` at `index` could record (an upper bound, like succeeds()). */
  private reach(cert: Certificate, index: number): Reach {
    const memo = this.reaches.get(cert) ?? [];
    const known = memo[index];
    if (known) return known;
    this.budget.spend("steps");
    const length = index + 1;
    const result: [number, number, number, number] = [-1, -1, -1, -1];
    if (cert.selfSigned) result[this.trusted.has(cert.sha256) ? FAILED_AT_ANCHOR : UNTRUSTED_ROOT] = length;
    else {
      result[NO_ISSUER] = length; // the search may stop here: no issuer left, or too long
      if (length < MAX_PATH_LENGTH) {
        for (const link of this.graph.linksOf(cert)) {
          this.budget.spend("candidates");
          if (!link.signed) result[BAD_SIGNATURE] = Math.max(result[BAD_SIGNATURE], length + 1);
          else this.reach(link.issuer, index + 1).forEach((value, rank) => (result[rank] = Math.max(result[rank] as number, value)));
        }
      }
    }
    memo[index] = result;
    this.reaches.set(cert, memo);
    return result;
  }
}

/** Whether a branch that could record `reach` might record an attempt better than `best`. */
function improves(reach: Reach, best: Attempt | undefined): boolean {
  if (!best) return true;
  for (let rank = best.rank + 1; rank <= FAILED_AT_ANCHOR; rank++) if (reach[rank] as number >= 0) return true;
  return (reach[best.rank] as number) > best.path.length;
}

export function findTrustedPath(request: PathRequest): PathResult {
  return PathSearch.over(request).find(request.leaf);
}
