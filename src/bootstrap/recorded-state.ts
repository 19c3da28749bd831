import { stateLayout } from "../config/layout.js";
import { readState, type TrustState } from "../config/state.js";
import type { TargetRoot } from "../config/target-root.js";

/** What a setup leaves behind of the state recorded before it, said out loud. */
export interface ForgottenState {
  readonly repository: string;
  readonly acceptedAt: string;
  /** --reset-state, or a setup for another repository, which starts that one's record afresh. */
  readonly reason: "reset-state" | "other-repository";
  /** The highest CRL number accepted per issuer: bundles below them are no longer refused. */
  readonly crlNumbers: Readonly<Record<string, string>>;
  /** How many certificates were recorded against replacement by older ones. */
  readonly certificates: number;
}

export interface RecordedState {
  /** state.json as it is now (compared again under the lock). */
  readonly onDisk?: TrustState;
  /** The state the new bundle must not go back from (refresh's rules); absent when none applies. */
  readonly guard?: TrustState;
  readonly forgotten?: ForgottenState;
}

const withSlash = (href: string) => (href.endsWith("/") ? href : `${href}/`);

/**
 * The rollback guard of a setup (TUF rollback and freeze attacks): a state recorded for the
 * same repository - as typed, or as normalised with its All/ - binds setup exactly as it binds
 * refresh, unless `resetState` asks to start over; a state recorded for another repository is
 * replaced. Either way the forgotten state is reported.
 */
export async function recordedState(root: TargetRoot, configPath: string, repositories: readonly URL[], resetState: boolean): Promise<RecordedState> {
  const onDisk = await readState(root, stateLayout(configPath).state);
  if (onDisk === undefined) return {};
  const same = repositories.some((url) => withSlash(url.href) === withSlash(onDisk.repository));
  if (same && !resetState) return { onDisk, guard: onDisk };
  const forgotten: ForgottenState = {
    repository: onDisk.repository,
    acceptedAt: onDisk.acceptedAt,
    reason: same ? "reset-state" : "other-repository",
    crlNumbers: onDisk.crlNumbers,
    certificates: onDisk.certificates.length,
  };
  return { onDisk, forgotten };
}

/** One line for the reporters. */
export function forgottenNotice(forgotten: ForgottenState): string {
  const why = forgotten.reason === "reset-state" ? "--reset-state: setup" : "setup for another repository";
  const numbers = Object.entries(forgotten.crlNumbers).map(([issuer, number]) => `CRL number ${number} of ${issuer}`);
  const what = [...numbers, `${forgotten.certificates} certificate(s)`].join(", ");
  return `${why} forgets the state accepted at ${forgotten.acceptedAt} for ${forgotten.repository} (${what}): older bundles than those are no longer refused`;
}
