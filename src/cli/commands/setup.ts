import { z } from "zod";
import { defaultRepository } from "../../bootstrap/default-repository.js";
import { BootstrapError } from "../../bootstrap/errors.js";
import { runSetup, type SetupOutcome, type SetupRequest } from "../../bootstrap/setup.js";
import { DEFAULT_ANCHOR } from "../../config/layout.js";
import { TargetRoot } from "../../config/target-root.js";
import { asPkgtrustError } from "../../errors.js";
import { checkTestInstallOptions, fetcherFor, bootstrapOptionSchema, pkgAddFor, targetPath } from "../bootstrap-options.js";
import { reportOutcome, reportWizardExit } from "../bootstrap-output.js";
import { withAnswers } from "../answers.js";
import type { Command } from "../command.js";
import { optionSpecOf, parseCommandLine, requirePositionals } from "../options.js";
import { writeError } from "../output.js";
import { checkRoot, refusedAnchor } from "../preflight.js";
import { limitsHelp } from "../limit-options.js";
import { plainReporter } from "../reporter.js";

const schema = bootstrapOptionSchema.extend({
  repo: z.string().min(1).optional(),
  anchor: targetPath.default(DEFAULT_ANCHOR),
  "reset-state": z.boolean().default(false),
});

function requireRepository(repository: string | undefined): string {
  if (!repository) throw new BootstrapError("BOOT_NEEDS_REPOSITORY", "no repository URL was given");
  return repository;
}

export const command: Command = {
  name: "setup",
  summary: "Fetch a repository's key bundle, verify it against the anchor, configure pkg_install and test-install a package (a wizard on a terminal).",
  usage:
    "setup [--repo URL] [--anchor FILE] [--config FILE] [--root DIR] [--ca-file FILE]\n" +
    "      [--test-package NAME | --no-test-install] [--allow-weak] [--reset-state] [--non-interactive] [--json]\n" +
    "      [--deadline SECONDS] [--timeout SECONDS] [--retries N] [--min-rate BYTES]\n" +
    "      [--answers FILE]   (options left out come from FILE, then PKGTRUST_REPO, PKGTRUST_ROOT ...)",
  details: limitsHelp(),
  stopsOnSignal: true,
  async run(context) {
    // Flags win over the answer file, which wins over PKGTRUST_* variables (unattended installs).
    const argv = await withAnswers(context.argv, optionSpecOf(schema), context.env, context.cwd, context.reportErrorsAsJson);
    context.reportErrorsAsJson?.(argv.includes("--json"));
    const { options, positionals } = parseCommandLine(argv, schema);
    requirePositionals(positionals, []);
    checkTestInstallOptions(options);
    const root = new TargetRoot(options.root);
    const interactive = context.isTTY && !options["non-interactive"] && !options.json;
    let repository: string | undefined;
    try {
      // Without a terminal nothing is asked, so the URL must be given; then, before any network, the target.
      repository = interactive ? options.repo : requireRepository(options.repo);
      await checkRoot(root);
      // A signal before the wizard took over the signals (a scripted run's stops in runSetup).
      if (interactive && context.signal.aborted) throw context.signal.reason;
    } catch (error) {
      // --json may have come from the answer file, which the top level does not see.
      writeError(context, asPkgtrustError(error), options.json);
      return asPkgtrustError(error).exit;
    }
    const pkgAdd = await pkgAddFor(root, context.env);
    const request = (repository: string): SetupRequest => ({
      repository,
      root,
      anchorPath: options.anchor,
      testInstall: !options["no-test-install"],
      allowWeak: options["allow-weak"],
      resetState: options["reset-state"],
      ...(options.config === undefined ? {} : { configPath: options.config }),
      ...(options["test-package"] === undefined ? {} : { testPackage: options["test-package"] }),
    });
    // On a terminal the wizard asks and reviews; scripted runs (sysinst, fleets) never prompt.
    if (interactive) {
      const fallback = repository === undefined ? await defaultRepository(root) : undefined;
      const { runWizard } = await import("../../../tui/wizard.js");
      let last: SetupOutcome | undefined;
      const status = await runWizard({
        repository: repository ?? fallback?.url ?? "",
        ...(fallback === undefined ? {} : { note: fallback.note }),
        env: context.env,
        // The wizard's Ctrl-C (and the signals it takes as one) aborts `signal`: the downloads in
        // flight end with its reason, and the run rolls back what it wrote.
        runBootstrap: async (repository, emit, review, signal) => {
          const refused = await refusedAnchor(root, options.anchor, emit);
          if (refused) return refused;
          const { fetcher, limits, dispatcher } = await fetcherFor(options, context.env, context.cwd);
          try {
            const stop = AbortSignal.any([signal, context.signal]);
            last = await runSetup(request(repository), { fetcher, limits, signal: stop, now: context.now, cwd: context.cwd, emit, review, ...pkgAdd });
            return last;
          } finally {
            await dispatcher.close().catch(() => undefined);
          }
        },
      });
      reportWizardExit(context, status, last);
      return status;
    }
    // --non-interactive asks nothing, but on a terminal the progress line still moves.
    const emit = options.json ? () => undefined : plainReporter(context, context.isTTY);
    const { fetcher, limits } = await fetcherFor(options, context.env, context.cwd);
    const outcome =
      (await refusedAnchor(root, options.anchor, emit)) ??
      (await runSetup(request(requireRepository(repository)), {
        fetcher,
        limits,
        signal: context.signal,
        now: context.now,
        cwd: context.cwd,
        emit,
        ...pkgAdd,
      }));
    return reportOutcome(context, outcome, options.json);
  },
};
