/**
 * Every limit pkgtrust puts on input it does not control (architecture.md: work is bounded
 * by the input), in one typed object with its defaults. Setup and refresh take a Limits in
 * their dependencies; the modules below use the defaults unless a caller passes its own.
 * `pkgtrust setup --help` prints them (src/cli/limit-options.ts), with the options that
 * change those a user may change.
 */
/**
 * The work a path search over attacker-supplied certificates may do (architecture.md: work is
 * bounded by the input). One budget covers a single findTrustedPath call, or a whole key bundle
 * (every certificate's search and every CRL's issuer search share it).
 */
export interface PathSearchLimits {
  /** Search steps: certificates put on a candidate path, plus states of the memoised bounds. */
  readonly maxSteps: number;
  /** Issuer candidates considered (a name match looked at as a possible issuer). */
  readonly maxCandidates: number;
  /** Signature verifications: (certificate, candidate issuer) and (CRL, candidate issuer) pairs. */
  readonly maxSignatureChecks: number;
}

export interface Timeouts {
  /** TCP connect plus TLS handshake (with a proxy: to the proxy, and the tunnelled handshake). */
  readonly connectMs: number;
  /** From sending the request to the end of the response headers. */
  readonly headersMs: number;
  /** The longest pause between two chunks of the body (an idle timeout, not a total). */
  readonly bodyMs: number;
}

export interface SummaryLimits {
  /** pkg_summary.gz (.bz2, .xz) as downloaded. */
  readonly maxCompressedBytes: number;
  /** pkg_summary unpacked, or as downloaded when only the plain file exists. */
  readonly maxSummaryBytes: number;
}

/** What the fetcher needs (src/net/fetcher.ts); the timeouts go into the dispatcher. */
export interface FetchLimits {
  /** Further attempts after a network error, a timeout or a 5xx status. */
  readonly retries: number;
  /** Base of the exponential backoff between attempts, with jitter. */
  readonly backoffMs: number;
  readonly redirects: number;
  /**
   * The total deadline of one download (every attempt, redirect and byte of it) is
   * deadlineGraceMs plus the time its size cap takes at minBytesPerSecond: a server that
   * trickles a byte now and then, never idle long enough for the body timeout, is cut off
   * (the slow-retrieval attack of TUF).
   */
  readonly minBytesPerSecond: number;
  readonly deadlineGraceMs: number;
}

export interface Limits extends FetchLimits {
  /** pkg_keys.pem as downloaded (also what `bundle lint` allows). */
  readonly bundleBytes: number;
  /** Certificates and CRLs in one bundle. */
  readonly bundleBlocks: number;
  readonly summary: SummaryLimits;
  /** The package a test-install downloads (the endless-data attack; a test package is small). */
  readonly testPackageBytes: number;
  readonly timeouts: Timeouts;
  /** A whole setup or refresh, fetch to test-install: SETUP_DEADLINE beyond, everything put back. */
  readonly setupDeadlineMs: number;
  /** The real pkg_add of a test-install. */
  readonly pkgAddMs: number;
  /** Work of the certificate path search over a whole bundle (pki/search-budget.ts). */
  readonly pathSearch: PathSearchLimits;
  /** Files named on the command line, which are read whole (packages are streamed, uncapped). */
  readonly inputFileBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Limits = Object.freeze({
  bundleBytes: MiB,
  bundleBlocks: 2048,
  // A full NetBSD/amd64 repository's pkg_summary.gz is under 10 MB and about 40 MB unpacked.
  summary: Object.freeze({ maxCompressedBytes: 32 * MiB, maxSummaryBytes: 128 * MiB }),
  testPackageBytes: 512 * MiB,
  timeouts: Object.freeze({ connectMs: 15_000, headersMs: 30_000, bodyMs: 30_000 }),
  retries: 3,
  backoffMs: 500,
  redirects: 5,
  // 16 KiB/s is a poor dial-up-era link; a bundle then has 124 s, a 10 MB summary 11 minutes.
  minBytesPerSecond: 16 * 1024,
  deadlineGraceMs: 60_000,
  setupDeadlineMs: 30 * 60_000,
  pkgAddMs: 300_000,
  /*
   * An honest bundle of 2048 certificates with key identifiers takes about 3 steps, 3
   * candidates and 1 signature check per certificate (6,200 steps, 6,200 candidates, 2,050
   * checks; twice the steps and candidates with CRLs); without key identifiers and with 8 CAs
   * of one name, 16,300 checks and 27,600 candidates. The limits leave that room and stop a
   * hostile bundle within seconds: a signature check costs 50 to 200 microseconds, a step a few.
   */
  pathSearch: Object.freeze({ maxSteps: 100_000, maxCandidates: 400_000, maxSignatureChecks: 30_000 }),
  // A key bundle is at most 1 MiB when fetched, and no PEM file pkgtrust reads comes near 16 MiB.
  inputFileBytes: 16 * MiB,
});

/** The longest setTimeout delay: Node fires a longer one at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The total deadline of one download capped at `maxBytes` (FetchLimits.minBytesPerSecond). */
export function downloadDeadlineMs(limits: FetchLimits, maxBytes: number): number {
  return Math.min(MAX_TIMER_MS, limits.deadlineGraceMs + Math.ceil((maxBytes / limits.minBytesPerSecond) * 1000));
}
