import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { BundleVerdict } from "../bundle/verify.js";
import { readIfExists } from "../config/atomic-file.js";
import { PKGIN_REPOSITORIES, pkginPresent, stateLayout } from "../config/layout.js";
import { mergeSettings } from "../config/pkg-install-conf.js";
import { setRepository } from "../config/pkgin-conf.js";
import { crlNumbersByIssuer, serialiseState, type TrustState } from "../config/state.js";
import type { TargetRoot } from "../config/target-root.js";
import type { FileChange } from "../config/transaction.js";
import type { Anchor } from "../trust/anchor.js";
import { trustRecord } from "./rollback-guard.js";
import { canIssue, ownedSettings, pkginUrl, repositoryId, trustFiles } from "./trust-files.js";

export interface WritePlan {
  readonly configPath: string;
  /** Taken before anything is written. */
  readonly lockPath: string;
  readonly changes: readonly FileChange[];
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Whether `state` accepts the same trust as `recorded`, apart from the time. A state read
 * from version 1 is compared by its CRL numbers per issuer, as that version recorded them.
 */
function sameTrust(recorded: TrustState, state: TrustState): boolean {
  if (recorded.legacyCrlNumbers === undefined) return isDeepStrictEqual({ ...recorded, acceptedAt: state.acceptedAt }, state);
  const { legacyCrlNumbers: _legacy, crls: _recordedCrls, ...rest } = recorded;
  const { crls: _crls, ...current } = state;
  return isDeepStrictEqual({ ...rest, acceptedAt: state.acceptedAt }, current) && isDeepStrictEqual(crlNumbersByIssuer(recorded), crlNumbersByIssuer(state));
}

/**
 * Every file setup will write, computed before the first write: the repository's trust
 * files, pkg_install.conf merged with the existing one, pkgin's repositories.conf when
 * pkgin is there, and the state record that status and refresh read.
 */
export async function planWrite(
  root: TargetRoot,
  request: {
    readonly repository: URL;
    readonly anchor: Anchor;
    readonly configPath: string;
    /** The state whose CRL numbers carry over (refresh, or setup again for the same repository). */
    readonly previous?: TrustState;
    /** state.json as it is, whatever its repository. */
    readonly recorded?: TrustState;
    readonly now: Date;
  },
  verdict: BundleVerdict,
): Promise<WritePlan> {
  const { repository, anchor, configPath } = request;
  const layout = stateLayout(configPath);
  const id = repositoryId(repository);
  const paths = layout.repository(id);
  const valid = verdict.certificates.filter((entry) => entry.status === "valid");
  const certificatesOf = (role: string) => valid.filter((entry) => entry.role === role).map((entry) => entry.certificate);
  // The anchor itself, when a bundle carries it, is already trusted: it is no intermediate.
  const anchorPrints = new Set(anchor.certificates.map((certificate) => certificate.sha256));
  const issuers = valid
    .filter((entry) => entry.role === "intermediate" && !anchorPrints.has(entry.certificate.sha256) && canIssue(entry.path ?? [entry.certificate]))
    .map((entry) => entry.certificate);
  const pems = trustFiles(anchor.roots, issuers, certificatesOf("signing"));
  const existing = async (target: string) => (await readIfExists(await root.writablePath(target)))?.toString("utf8");
  const changes: FileChange[] = [
    { targetPath: paths.anchors, content: Buffer.from(pems.anchors) },
    { targetPath: paths.chain, content: Buffer.from(pems.chain) },
    { targetPath: configPath, content: Buffer.from(mergeSettings(await existing(configPath), ownedSettings(repository, paths))), backup: true },
  ];
  if (await pkginPresent(root)) {
    changes.push({ targetPath: PKGIN_REPOSITORIES, content: Buffer.from(setRepository(await existing(PKGIN_REPOSITORIES), pkginUrl(repository))), backup: true });
  }
  const state: TrustState = {
    version: 2,
    repository: repository.href,
    repositoryId: id,
    anchorFile: anchor.path,
    configFile: configPath,
    acceptedAt: request.now.toISOString(),
    files: [
      { path: paths.anchors, sha256: sha256(pems.anchors) },
      { path: paths.chain, sha256: sha256(pems.chain) },
    ],
    ...trustRecord(verdict, request.previous),
  };
  // Accepting the same trust again is no new acceptance: an identical refresh touches nothing.
  const unchanged = request.recorded !== undefined && sameTrust(request.recorded, state);
  changes.push({ targetPath: layout.state, content: serialiseState(unchanged ? { ...state, acceptedAt: request.recorded.acceptedAt } : state) });
  return { configPath, lockPath: layout.lock, changes };
}
