import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import { readIfExists } from "../config/atomic-file.js";
import { acquireLock } from "../config/lock.js";
import { mergeSettings } from "../config/pkg-install-conf.js";
import { setRepository } from "../config/pkgin-conf.js";
import { defaultConfigPath, PKGIN_REPOSITORIES, pkginPresent, stateLayout } from "../config/layout.js";
import { serialiseState, type TrustState } from "../config/state.js";
import type { TargetRoot } from "../config/target-root.js";
import { FileTransaction, type FileChange } from "../config/transaction.js";
import { asPkgtrustError, type PkgtrustError } from "../errors.js";
import { fetchBytes, type FetchOptions } from "../net/fetch.js";
import { readBundle } from "../bundle/read.js";
import { chainsToForeignRoot } from "../bundle/foreign-root.js";
import { verifyBundle, type BundleVerdict } from "../bundle/verify.js";
import { PKG_INSTALL_POLICY, STRICT_POLICY } from "../pki/policy.js";
import { loadAnchor, type Anchor } from "./anchor.js";
import { BootstrapError } from "./errors.js";
import type { CertificateSummary, EmitEvent, FailureSummary, FileOutcome, Step, TestInstallOutcome } from "./events.js";
import { keyBundleUrl, normaliseRepository, parseRepositoryInput } from "./repository.js";
import { checkNoRollback, trustRecord } from "./rollback-guard.js";
import { summarise } from "./summary.js";
import { testInstall } from "./test-install.js";
import { ownedSettings, packagePath, repositoryId, trustFiles } from "./trust-files.js";

/** Key bundles are small; anything larger is refused unread (TUF endless-data attack). */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

export interface SetupRequest {
  /** As the user gave it: URL or absolute path. */
  readonly repository: string;
  readonly root: TargetRoot;
  /** Target paths. */
  readonly anchorPath: string;
  readonly configPath?: string;
  readonly testPackage?: string;
  readonly testInstall: boolean;
  readonly allowWeak?: boolean;
  /** Set by refresh: what was accepted before, so that an older bundle is refused. */
  readonly previous?: TrustState;
}

export interface SetupDependencies {
  readonly dispatcher: Dispatcher;
  readonly now: Date;
  readonly cwd: string;
  readonly emit: EmitEvent;
  /** The TUI's key review; resolving false declines and changes nothing. */
  readonly review?: (certificates: readonly CertificateSummary[]) => Promise<boolean>;
  readonly pkgAdd?: string;
}

export interface SetupResult {
  readonly repository: string;
  readonly configFile: string;
  readonly anchorFile: string;
  readonly certificates: readonly CertificateSummary[];
  readonly files: readonly FileOutcome[];
  readonly testInstall?: TestInstallOutcome;
}

export type SetupOutcome = { readonly ok: true; readonly result: SetupResult } | { readonly ok: false; readonly failure: FailureSummary; readonly error: PkgtrustError };

/** Fails the run unless the bundle can be trusted as a whole (issue: any foreign root fails it). */
export function requireUsableBundle(verdict: BundleVerdict, anchor: Pick<Anchor, "path" | "roots">): void {
  const anchorPath = anchor.path;
  // One certificate from another root is enough to distrust the whole repository.
  const foreign = verdict.certificates.find((entry) => chainsToForeignRoot(entry, anchor.roots));
  if (foreign) {
    throw new BootstrapError("BOOT_FOREIGN_ROOT", `${foreign.certificate.subject} in the key bundle chains to a root that is not in ${anchorPath}`, {
      detail: { subject: foreign.certificate.subject, sha256: foreign.certificate.sha256 },
    });
  }
  if (!verdict.certificates.some((entry) => entry.status === "valid" && entry.role === "signing")) {
    throw new BootstrapError("BOOT_NO_SIGNING_CERT", `the key bundle holds no valid build certificate that chains to ${anchorPath}`, {
      detail: { anchor: anchorPath },
    });
  }
}

/**
 * setup and refresh: fetch the bundle, verify it, write the configuration, prove it with a
 * test-install; any failure after the first write puts every file back as it was.
 */
export async function runSetup(request: SetupRequest, deps: SetupDependencies): Promise<SetupOutcome> {
  const { emit } = deps;
  const { root } = request;
  let changed: string[] = [];
  let step: Step = "fetch";
  let transaction: FileTransaction | undefined;
  let lock: { release(): Promise<void> } | undefined;
  const progress = (current: Step) => (p: { url: string; received: number; total?: number }) =>
    emit({ type: "progress", step: current, url: p.url, received: p.received, ...(p.total === undefined ? {} : { total: p.total }) });
  const fetchOptions = (current: Step): FetchOptions => ({ dispatcher: deps.dispatcher, maxBytes: MAX_BUNDLE_BYTES, onProgress: progress(current) });
  try {
    const input = parseRepositoryInput(request.repository, deps.cwd);
    emit({ type: "step-started", step, detail: `pkg_keys.pem of ${input.href}` });
    const repository = await normaliseRepository(input, fetchOptions(step));
    const bundleUrl = keyBundleUrl(repository);
    const { bytes } = await fetchBytes(bundleUrl, fetchOptions(step));
    emit({ type: "step-finished", step, summary: `${bytes.length} bytes from ${bundleUrl.href}` });

    step = "verify";
    emit({ type: "step-started", step, detail: `against ${request.anchorPath}` });
    const anchor = await loadAnchor(root, request.anchorPath);
    const bundle = readBundle(Buffer.from(bytes).toString("utf8"), bundleUrl.href);
    const policy = request.allowWeak ? PKG_INSTALL_POLICY : STRICT_POLICY;
    const verdict = await verifyBundle(bundle, anchor.certificates, { time: deps.now, policy });
    const summaries = verdict.certificates.map((entry) => summarise(entry, deps.now));
    for (const certificate of summaries) emit({ type: "certificate-reviewed", certificate });
    requireUsableBundle(verdict, anchor);
    if (request.previous) checkNoRollback(request.previous, verdict, deps.now);
    const valid = verdict.certificates.filter((entry) => entry.status === "valid");
    const invalidCount = verdict.certificates.length - valid.length;
    emit({ type: "step-finished", step, summary: `${valid.length} certificates valid, ${invalidCount} left out` });
    if (deps.review && !(await deps.review(summaries))) throw new BootstrapError("BOOT_DECLINED", "the key bundle was not accepted");

    step = "write";
    const configPath = request.configPath ?? (await defaultConfigPath(root));
    emit({ type: "step-started", step, detail: configPath });
    const layout = stateLayout(configPath);
    lock = await acquireLock(await root.writablePath(layout.lock));
    const id = repositoryId(repository);
    const paths = layout.repository(id);
    const pems = trustFiles(
      anchor.roots,
      valid.filter((entry) => entry.role === "intermediate").map((entry) => entry.certificate),
      valid.filter((entry) => entry.role === "signing").map((entry) => entry.certificate),
    );
    const existingConfig = (await readIfExists(await root.writablePath(configPath)))?.toString("utf8");
    const config = mergeSettings(existingConfig, ownedSettings(repository, paths));
    const changes: FileChange[] = [
      { targetPath: paths.anchors, content: Buffer.from(pems.anchors) },
      { targetPath: paths.chain, content: Buffer.from(pems.chain) },
      { targetPath: configPath, content: Buffer.from(config), backup: true },
    ];
    if (await pkginPresent(root)) {
      const existing = (await readIfExists(await root.writablePath(PKGIN_REPOSITORIES)))?.toString("utf8");
      const href = repository.protocol === "file:" ? repository.href.replace(/\/+$/, "") : packagePath(repository);
      changes.push({ targetPath: PKGIN_REPOSITORIES, content: Buffer.from(setRepository(existing, href)), backup: true });
    }
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
    const state: TrustState = {
      version: 1,
      repository: repository.href,
      repositoryId: id,
      anchorFile: request.anchorPath,
      configFile: configPath,
      acceptedAt: deps.now.toISOString(),
      files: [
        { path: paths.anchors, sha256: sha256(pems.anchors) },
        { path: paths.chain, sha256: sha256(pems.chain) },
      ],
      ...trustRecord(verdict, request.previous),
    };
    changes.push({ targetPath: layout.state, content: serialiseState(state) });
    transaction = new FileTransaction(root);
    const outcomes = await transaction.apply(changes);
    const files = outcomes.map((outcome) => ({ path: outcome.targetPath, status: outcome.status }));
    changed = files.filter((f) => f.status !== "unchanged").map((f) => f.path);
    for (const file of files) emit({ type: "file-written", file });
    emit({ type: "step-finished", step, summary: `${files.filter((f) => f.status !== "unchanged").length} files changed` });

    step = "test-install";
    let tested: TestInstallOutcome | undefined;
    if (request.testInstall) {
      emit({ type: "step-started", step, detail: request.testPackage ?? "digest, else the smallest package" });
      tested = await testInstall({
        root,
        repository,
        configPath,
        time: deps.now,
        fetch: fetchOptions(step),
        ...(request.testPackage === undefined ? {} : { requested: request.testPackage }),
        ...(deps.pkgAdd === undefined ? {} : { pkgAdd: deps.pkgAdd }),
      });
      emit({ type: "step-finished", step, summary: `${tested.package} verified (${tested.check})` });
    } else {
      emit({ type: "step-skipped", step, reason: "--no-test-install" });
    }
    transaction.commit();
    return {
      ok: true,
      result: { repository: repository.href, configFile: configPath, anchorFile: request.anchorPath, certificates: summaries, files, ...(tested ? { testInstall: tested } : {}) },
    };
  } catch (thrown) {
    const error = asPkgtrustError(thrown);
    let unchanged = true;
    if (transaction) {
      try {
        await transaction.rollback();
        emit({ type: "rolled-back", files: changed });
      } catch {
        unchanged = false;
      }
    }
    const failure: FailureSummary = { step, code: error.code, message: error.message, next: error.next, unchanged };
    emit({ type: "step-failed", failure });
    return { ok: false, failure, error };
  } finally {
    await lock?.release();
  }
}
