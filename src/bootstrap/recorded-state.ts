import { isDeepStrictEqual } from "node:util";
import { ConfigError } from "../config/errors.js";
import { stateLayout } from "../config/layout.js";
import { crlNumbersByIssuer, parseState, type TrustState } from "../config/state.js";
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
  /** state.json's bytes as read (compared again under the lock); undefined when there is none. */
  readonly bytes?: Buffer;
  /** The state as read, whatever its repository; absent when there is none or it was unreadable and reset. */
  readonly onDisk?: TrustState;
  /** The state the new bundle must not go back from (refresh's rules); absent when none applies. */
  readonly guard?: TrustState;
  readonly forgotten?: ForgottenState;
}

const withSlash = (href: string) => (href.endsWith("/") ? href : `${href}/`);

/**
 * The rollback guard of a run (TUF rollback and freeze attacks). refresh's is the state it
 * loaded (`previous`). For setup, a state recorded for the same repository - as typed, or as
 * normalised with its All/ - binds exactly as it binds refresh, unless `resetState` asks to
 * start over (an unreadable state.json too); a state recorded for another repository is
 * replaced. Either way the forgotten state is reported.
 */
export async function recordedState(
  root: TargetRoot,
  configPath: string,
  request: { readonly repositories: readonly URL[]; readonly resetState: boolean; readonly previous?: TrustState },
): Promise<RecordedState> {
  const statePath = stateLayout(configPath).state;
  const bytes = await root.readIfExists(statePath);
  if (bytes === undefined) {
    if (request.previous) throw changedMeanwhile(statePath);
    return {};
  }
  let onDisk: TrustState;
  try {
    onDisk = parseState(bytes, statePath);
  } catch (error) {
    if (request.resetState && request.previous === undefined) return { bytes };
    throw error;
  }
  if (request.previous) {
    if (!isDeepStrictEqual(onDisk, request.previous)) throw changedMeanwhile(statePath);
    return { bytes, onDisk, guard: onDisk };
  }
  const same = request.repositories.some((url) => withSlash(url.href) === withSlash(onDisk.repository));
  if (same && !request.resetState) return { bytes, onDisk, guard: onDisk };
  const forgotten: ForgottenState = {
    repository: onDisk.repository,
    acceptedAt: onDisk.acceptedAt,
    reason: same ? "reset-state" : "other-repository",
    crlNumbers: crlNumbersByIssuer(onDisk),
    certificates: onDisk.certificates.length,
  };
  return { bytes, onDisk, forgotten };
}

/** Under the lock: the rules were checked against the state read before it, which another run may have replaced since. */
export async function requireStateUnchanged(root: TargetRoot, configPath: string, recorded: RecordedState): Promise<void> {
  const statePath = stateLayout(configPath).state;
  const now = await root.readIfExists(statePath);
  const same = now === undefined || recorded.bytes === undefined ? now === recorded.bytes : now.equals(recorded.bytes);
  if (!same) throw changedMeanwhile(statePath);
}

function changedMeanwhile(statePath: string) {
  return new ConfigError("CONFIG_CONCURRENT_CHANGE", `${statePath} changed while this run verified the bundle`, { detail: { path: statePath } });
}

/** One line for the reporters. */
export function forgottenNotice(forgotten: ForgottenState): string {
  const why = forgotten.reason === "reset-state" ? "--reset-state: setup" : "setup for another repository";
  const numbers = Object.entries(forgotten.crlNumbers).map(([issuer, number]) => `CRL number ${number} of ${issuer}`);
  const what = [...numbers, `${forgotten.certificates} certificate(s)`].join(", ");
  return `${why} forgets the state accepted at ${forgotten.acceptedAt} for ${forgotten.repository} (${what}): older bundles than those are no longer refused`;
}
