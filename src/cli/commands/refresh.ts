import { runSetup } from "../../bootstrap/setup.js";
import { loadState } from "../../bootstrap/status.js";
import { TargetRoot } from "../../config/target-root.js";
import { checkTestInstallOptions, dispatcherFor, bootstrapOptionSchema, bootstrapOptionSpec, pkgAddFor } from "../bootstrap-options.js";
import { reportOutcome } from "../bootstrap-output.js";
import type { Command } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { plainReporter } from "../reporter.js";

export const command: Command = {
  name: "refresh",
  summary: "Re-fetch the configured repository's key bundle (key rotation), refusing one older than the last accepted.",
  usage: "refresh [--config FILE] [--root DIR] [--ca-file FILE] [--test-package NAME | --no-test-install] [--allow-weak] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, bootstrapOptionSpec, bootstrapOptionSchema);
    requirePositionals(positionals, []);
    checkTestInstallOptions(options);
    const root = new TargetRoot(options.root);
    const notices: string[] = [];
    const previous = await loadState(root, options.config, (notice) => notices.push(notice));
    const pkgAdd = await pkgAddFor(root, context.env);
    const emit = options.json ? () => undefined : plainReporter(context.stdout, context.isTTY);
    for (const message of notices) emit({ type: "notice", step: "fetch", message });
    const outcome = await runSetup(
      {
        repository: previous.repository,
        root,
        anchorPath: previous.anchorFile,
        configPath: previous.configFile,
        testInstall: !options["no-test-install"],
        allowWeak: options["allow-weak"],
        previous,
        ...(options["test-package"] === undefined ? {} : { testPackage: options["test-package"] }),
      },
      {
        dispatcher: await dispatcherFor(options, context.env),
        now: context.now,
        cwd: context.cwd,
        emit,
        ...(pkgAdd === undefined ? {} : { pkgAdd }),
      },
    );
    return reportOutcome(context, outcome, options.json);
  },
};
