import { DEFAULT_LIMITS, type PathSearchLimits } from "../limits.js";
import { CertificateError } from "./errors.js";

export type { PathSearchLimits };

/** Defaults (src/limits.ts, which says why these numbers). */
export const PATH_SEARCH_LIMITS: PathSearchLimits = DEFAULT_LIMITS.pathSearch;

type Work = "steps" | "candidates" | "signatures";

const LIMIT_OF: Record<Work, keyof PathSearchLimits> = { steps: "maxSteps", candidates: "maxCandidates", signatures: "maxSignatureChecks" };

export class SearchBudget {
  readonly limits: PathSearchLimits;
  private readonly used: Record<Work, number> = { steps: 0, candidates: 0, signatures: 0 };

  constructor(limits: PathSearchLimits = PATH_SEARCH_LIMITS) {
    this.limits = limits;
  }

  /** Counts `amount` units of work; throws CERT_SEARCH_LIMIT once a limit is passed. */
  spend(work: Work, amount = 1): void {
    this.used[work] += amount;
    const limit = this.limits[LIMIT_OF[work]];
    if (this.used[work] > limit) {
      throw new CertificateError("CERT_SEARCH_LIMIT", `building certificate paths took more than ${limit} ${work === "signatures" ? "signature checks" : work}: the certificates are malformed or hostile`, {
        detail: { work, limit },
      });
    }
  }

  /** The work done so far (for benchmarks and reports). */
  usage(): Readonly<Record<Work, number>> {
    return { ...this.used };
  }
}
