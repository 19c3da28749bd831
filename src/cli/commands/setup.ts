import { createInterface } from "node:readline/promises";
import { z } from "zod";
import { BootstrapError } from "../../bootstrap/errors.js";
import { runSetup } from "../../bootstrap/setup.js";
import { DEFAULT_ANCHOR } from "../../config/layout.js";
import { TargetRoot } from "../../config/target-root.js";
import { checkTestInstallOptions, dispatcherFor, networkOptionSchema, networkOptionSpec, pkgAddFor, targetPath } from "../bootstrap-options.js";
import { reportOutcome } from "../bootstrap-output.js";
import type { Command, CommandContext } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { plainReporter } from "../reporter.js";

const schema = networkOptionSchema.extend({
  repo: z.string().min(1).optional(),
  anchor: targetPath.default(DEFAULT_ANCHOR),
});

async function askRepository(context: CommandContext): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: context.stdout as NodeJS.WritableStream });
  try {
    return (await prompt.question("Package repository URL: ")).trim();
  } finally {
    prompt.close();
  }
}

export const command: Command = {
  name: "setup",
  summary: "Fetch a repository's key bundle, verify it against the anchor, configure pkg_install and test-install a package.",
  usage:
    "setup --repo URL [--anchor FILE] [--config FILE] [--root DIR] [--ca-file FILE]\n" +
    "      [--test-package NAME | --no-test-install] [--allow-weak] [--non-interactive] [--json]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, { ...networkOptionSpec, repo: { type: "string" }, anchor: { type: "string" } }, schema);
    requirePositionals(positionals, []);
    checkTestInstallOptions(options);
    const interactive = context.isTTY && !options["non-interactive"] && !options.json;
    let repository = options.repo;
    // Scripted runs never prompt (sysinst, fleets): a missing answer is an error.
    if (repository === undefined && interactive) repository = await askRepository(context);
    if (!repository) throw new BootstrapError("BOOT_NEEDS_REPOSITORY", "no repository URL was given");
    const root = new TargetRoot(options.root);
    const pkgAdd = await pkgAddFor(root, context.env);
    const outcome = await runSetup(
      {
        repository,
        root,
        anchorPath: options.anchor,
        testInstall: !options["no-test-install"],
        allowWeak: options["allow-weak"],
        ...(options.config === undefined ? {} : { configPath: options.config }),
        ...(options["test-package"] === undefined ? {} : { testPackage: options["test-package"] }),
      },
      {
        dispatcher: await dispatcherFor(options, context.env),
        now: context.now,
        cwd: context.cwd,
        emit: options.json ? () => undefined : plainReporter(context.stdout, interactive),
        ...(pkgAdd === undefined ? {} : { pkgAdd }),
      },
    );
    return reportOutcome(context, outcome, options.json);
  },
};
