import { verifyBundle } from "../bundle/verify.js";
import { defaultConfigPath, stateLayout } from "../config/layout.js";
import { acquireLock, type Lock } from "../config/lock.js";
import { recoverInterrupted, recoveryNotice, removeEmptyDirectories, settleInterruptedRun, type Recovery } from "../config/recovery.js";
import type { TrustState } from "../config/state.js";
import type { TargetRoot } from "../config/target-root.js";
import { FileTransaction } from "../config/transaction.js";
import { asPkgtrustError, type PkgtrustError } from "../errors.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import type { FetchCall, Fetcher } from "../net/fetcher.js";
import { PackageCache } from "../package/package-cache.js";
import { PKG_INSTALL_POLICY, STRICT_POLICY } from "../pki/policy.js";
import { loadAnchor } from "../trust/anchor.js";
import { requireCurrentCrls, requireUsableBundle } from "../trust/bundle-rules.js";
import { BootstrapError } from "./errors.js";
import type { AnchorSummary, CertificateSummary, EmitEvent, FailureSummary, FileOutcome, Step, TestInstallOutcome } from "./events.js";
import { fetchKeyBundle, readKeyBundle } from "./key-bundle.js";
import { planWrite } from "./plan.js";
import { forgottenNotice, recordedState, requireStateUnchanged, type ForgottenState } from "./recorded-state.js";
import { keyBundleUrl, normaliseRepository, parseRepositoryInput } from "./repository.js";
import { checkNoRollback } from "./rollback-guard.js";
import { checkpoint, runSignal, untilStopped } from "./run-signal.js";
import { summarise } from "./certificate-summary.js";
import { testInstall, type PkgAdd } from "./test-install.js";
import { youngCollector } from "../young-gc.js";

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
  /** setup --reset-state: start over although a state is recorded for this repository. */
  readonly resetState?: boolean;
  /** Set by refresh: what was accepted before, so that an older bundle is refused. */
  readonly previous?: TrustState;
}

export interface SetupDependencies {
  /** Every download goes through it (its limits: retries, redirects, each download's deadline). */
  readonly fetcher: Fetcher;
  /**
   * Stops the run (the wizard's Ctrl-C, the CLI's signals): its reason, a PkgtrustError, is
   * the failure, and what was written is put back. The run's own deadline aborts it too.
   */
  readonly signal?: AbortSignal;
  /** Caps and the run's deadline; default DEFAULT_LIMITS. */
  readonly limits?: Limits;
  readonly now: Date;
  readonly cwd: string;
  readonly emit: EmitEvent;
  /** The TUI's key review; resolving false declines and changes nothing (BOOT_DECLINED). */
  readonly review?: (certificates: readonly CertificateSummary[], anchor: AnchorSummary) => Promise<boolean>;
  readonly pkgAdd?: PkgAdd;
  /** Why no pkg_add runs, when none is given. */
  readonly noPkgAddReason?: string;
}

export interface SetupResult {
  readonly repository: string;
  readonly configFile: string;
  readonly anchorFile: string;
  /** The anchor file's self-signed roots, the fingerprints to compare with the release notes. */
  readonly anchorRoots: AnchorSummary["roots"];
  readonly certificates: readonly CertificateSummary[];
  readonly files: readonly FileOutcome[];
  readonly testInstall?: TestInstallOutcome;
  /** The recorded state this setup replaced without applying its rollback rules. */
  readonly forgottenState?: ForgottenState;
}

export type SetupOutcome = { readonly ok: true; readonly result: SetupResult } | { readonly ok: false; readonly failure: FailureSummary; readonly error: PkgtrustError };

/**
 * setup and refresh: fetch the bundle, verify it, write the configuration, prove it with a
 * test-install; any failure after the first write puts every file back as it was.
 */
export async function runSetup(request: SetupRequest, deps: SetupDependencies): Promise<SetupOutcome> {
  const { emit } = deps;
  const { root } = request;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const run = runSignal(deps.signal, limits.setupDeadlineMs);
  // One run's memos: the anchor, the bundle's certificates, the trust files written from them
  // and the test package's signature hold the same few certificates, each parsed once.
  const cache = new PackageCache();
  const { signal } = run;
  let step: Step = "fetch";
  let transaction: FileTransaction | undefined;
  let lock: Lock | undefined;
  let recovery: Recovery | undefined;
  let configPath: string | undefined;
  const notice = (at: Step, message: string | undefined) => message !== undefined && emit({ type: "notice", step: at, message });
  const fetchCall = (current: Step): FetchCall => ({
    signal,
    onEvent: (event) => emit(event.type === "progress" ? { ...event, step: current } : { ...event, type: "fetch-attempt", step: current }),
  });
  try {
    checkpoint(signal);
    const input = parseRepositoryInput(request.repository, deps.cwd);
    emit({ type: "step-started", step, detail: `pkg_keys.pem of ${input.href}` });
    const repository = await normaliseRepository(input, deps.fetcher, fetchCall(step));
    const bundleUrl = keyBundleUrl(repository);
    const bytes = await fetchKeyBundle(repository, deps.fetcher, limits.bundleBytes, fetchCall(step));
    emit({ type: "step-finished", step, summary: `${bytes.length} bytes from ${bundleUrl.href}` });
    checkpoint(signal);

    step = "verify";
    emit({ type: "step-started", step, detail: `against ${request.anchorPath}` });
    const anchor = await loadAnchor(root, request.anchorPath, cache);
    const anchorSummary: AnchorSummary = { path: anchor.path, roots: anchor.roots.map(({ subject, sha256 }) => ({ subject, sha256 })) };
    const bundle = readKeyBundle(bytes, bundleUrl, cache);
    const verdict = await verifyBundle(bundle, anchor.certificates, { time: deps.now, policy: request.allowWeak ? PKG_INSTALL_POLICY : STRICT_POLICY, limits: limits.pathSearch });
    checkpoint(signal);
    const summaries = verdict.certificates.map((entry) => summarise(entry, deps.now));
    for (const certificate of summaries) emit({ type: "certificate-reviewed", certificate });
    requireUsableBundle(verdict, anchor);
    requireCurrentCrls(verdict, deps.now);
    configPath = request.configPath ?? (await defaultConfigPath(root));
    // A killed run's unfinished files are put back before its state is trusted for anything.
    notice(step, recoveryNotice(await settleInterruptedRun(root, configPath)));
    const recorded = await recordedState(root, configPath, {
      repositories: [input, repository],
      resetState: request.resetState ?? false,
      ...(request.previous ? { previous: request.previous } : {}),
    });
    if (recorded.guard) checkNoRollback(recorded.guard, verdict);
    if (recorded.forgotten) notice(step, forgottenNotice(recorded.forgotten));
    if (recorded.bytes && !recorded.onDisk) notice(step, "--reset-state: setup replaces the unreadable state.json, and with it every rollback record");
    const validCount = summaries.filter((c) => c.status === "valid").length;
    emit({ type: "step-finished", step, summary: `${validCount} certificates valid, ${summaries.length - validCount} left out` });
    if (deps.review && !(await untilStopped(deps.review(summaries, anchorSummary), signal))) throw new BootstrapError("BOOT_DECLINED", "the key bundle was not accepted");
    checkpoint(signal);

    step = "write";
    emit({ type: "step-started", step, detail: configPath });
    const layout = stateLayout(configPath);
    lock = await acquireLock(await root.writablePath(layout.lock));
    recovery = await recoverInterrupted(root, configPath);
    notice(step, recoveryNotice(recovery));
    await requireStateUnchanged(root, configPath, recorded);
    const plan = await planWrite(root, { repository, anchor, configPath, previous: recorded.guard, recorded: recorded.onDisk, now: deps.now }, verdict);
    transaction = new FileTransaction(root, layout.journal, lock.created);
    const files: FileOutcome[] = (await transaction.apply(plan.changes)).map((outcome) => ({ path: outcome.targetPath, status: outcome.status }));
    for (const file of files) emit({ type: "file-written", file });
    checkpoint(signal);
    emit({ type: "step-finished", step, summary: `${files.filter((file) => file.status !== "unchanged").length} files changed` });

    step = "test-install";
    let tested: TestInstallOutcome | undefined;
    if (request.testInstall) {
      emit({ type: "step-started", step, detail: request.testPackage ?? "digest, else the smallest package" });
      tested = await testInstall({
        root,
        repository,
        configPath: plan.configPath,
        time: deps.now,
        fetcher: deps.fetcher,
        call: fetchCall(step),
        limits,
        cache,
        collect: youngCollector(),
        ...(request.testPackage === undefined ? {} : { requested: request.testPackage }),
        ...(deps.pkgAdd === undefined ? {} : { pkgAdd: deps.pkgAdd }),
        ...(deps.noPkgAddReason === undefined ? {} : { noPkgAddReason: deps.noPkgAddReason }),
      });
      emit({ type: "step-finished", step, summary: `${tested.package}: ${tested.why}` });
    } else {
      emit({ type: "step-skipped", step, reason: "--no-test-install" });
    }
    // Until here a failure, a signal or a kill (through the next run's recovery) restores the old files.
    checkpoint(signal);
    await transaction.commit();
    const result: SetupResult = {
      repository: repository.href,
      configFile: plan.configPath,
      anchorFile: request.anchorPath,
      anchorRoots: anchorSummary.roots,
      certificates: summaries,
      files,
      ...(tested ? { testInstall: tested } : {}),
      ...(recorded.forgotten ? { forgottenState: recorded.forgotten } : {}),
    };
    return { ok: true, result };
  } catch (thrown) {
    const error = asPkgtrustError(thrown);
    // The first cause stays the error; the rollback says what it put back and what it could not.
    const report = await transaction?.rollback();
    if (report && (report.restored.length > 0 || report.notRestored.length > 0)) emit({ type: "rolled-back", files: report.restored, notRestored: report.notRestored });
    const notRestored = report?.notRestored ?? [];
    const failure: FailureSummary = { step, code: error.code, message: error.message, next: error.next, unchanged: notRestored.length === 0, notRestored };
    emit({ type: "step-failed", failure });
    return { ok: false, failure, error };
  } finally {
    run.dispose();
    // A lock that cannot be removed is stale once this process ends: the next run takes it over.
    await lock?.release().catch(() => undefined);
    if (configPath !== undefined) await removeEmptyDirectories(root, configPath, recovery).catch(() => undefined);
  }
}
