import type { BootstrapEvent } from "../../bootstrap/events.js";
import { runSetup, type SetupOutcome } from "../../bootstrap/setup.js";
import { loadState } from "../../bootstrap/status.js";
import { refreshRecordPath, writeRefreshRecord } from "../../config/refresh-record.js";
import { stateLayout } from "../../config/layout.js";
import { TargetRoot } from "../../config/target-root.js";
import { asPkgtrustError, EXIT } from "../../errors.js";
import { checkTestInstallOptions, fetcherFor, bootstrapOptionSchema, pkgAddFor } from "../bootstrap-options.js";
import { reportOutcome } from "../bootstrap-output.js";
import type { Command, CommandContext } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { checkRoot, refusedAnchor } from "../preflight.js";
import { limitsHelp } from "../limit-options.js";
import { plainReporter } from "../reporter.js";

/** Whether a successful refresh wrote anything besides pkgtrust's own record of when it ran (state.json). */
function changedFiles(outcome: SetupOutcome & { ok: true }, configFile: string): boolean {
  const state = stateLayout(configFile).state;
  return outcome.result.files.some((file) => file.status !== "unchanged" && file.path !== state);
}

/** Records the outcome for `status`; a record that cannot be written is said on stderr and does not change the exit status. */
async function record(context: CommandContext, root: TargetRoot, configFile: string, outcome: SetupOutcome): Promise<void> {
  const at = context.now.toISOString();
  const entry = outcome.ok
    ? { version: 1 as const, at, ok: true, changed: changedFiles(outcome, configFile) }
    : { version: 1 as const, at, ok: false, changed: false, code: outcome.error.code, message: outcome.error.message };
  await writeRefreshRecord(root, configFile, entry).catch((error: unknown) => {
    context.stderr.write(`pkgtrust: warning: cannot record this refresh in ${refreshRecordPath(configFile)}: ${asPkgtrustError(error).message}\n`);
  });
}

export const command: Command = {
  name: "refresh",
  summary:
    "Re-fetch the configured repository's key bundle (key rotation), refusing one older than the last accepted. Without a terminal, a refresh that changes nothing prints nothing (cron mails only news); the outcome is recorded for 'pkgtrust status'.",
  usage:
    "refresh [--config FILE] [--root DIR] [--ca-file FILE] [--test-package NAME | --no-test-install] [--allow-weak] [--json]\n" +
    "        [--deadline SECONDS] [--timeout SECONDS] [--retries N] [--min-rate BYTES]",
  details: limitsHelp(),
  stopsOnSignal: true,
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, bootstrapOptionSchema);
    requirePositionals(positionals, []);
    checkTestInstallOptions(options);
    const root = new TargetRoot(options.root);
    await checkRoot(root);
    const notices: string[] = [];
    const previous = await loadState(root, options.config, (notice) => notices.push(notice));
    const pkgAdd = await pkgAddFor(root, context.env);
    // On a terminal the report is live; elsewhere (cron) it is held back and printed only
    // when the refresh changed something or failed, so that a quiet day sends no mail.
    const held: BootstrapEvent[] = [];
    const live = context.isTTY && !options.json;
    const emit = live ? plainReporter(context, true) : (event: BootstrapEvent) => void held.push(event);
    for (const message of notices) emit({ type: "notice", step: "fetch", message });
    const request = {
      repository: previous.repository,
      root,
      anchorPath: previous.anchorFile,
      configPath: previous.configFile,
      testInstall: !options["no-test-install"],
      allowWeak: options["allow-weak"],
      previous,
      ...(options["test-package"] === undefined ? {} : { testPackage: options["test-package"] }),
    };
    const { fetcher, limits } = await fetcherFor(options, context.env, context.cwd);
    const outcome =
      (await refusedAnchor(root, previous.anchorFile, emit)) ??
      (await runSetup(request, {
        fetcher,
        limits,
        signal: context.signal,
        now: context.now,
        cwd: context.cwd,
        emit,
        ...pkgAdd,
      }));
    await record(context, root, previous.configFile, outcome);
    // A repaired killed run (a notice) is news too.
    const news = !outcome.ok || notices.length > 0 || changedFiles(outcome, previous.configFile);
    if (!options.json && !live) {
      if (!news) return EXIT.OK;
      held.forEach(plainReporter(context, false));
    }
    return reportOutcome(context, outcome, options.json);
  },
};
