import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { runSetup } from "../../bootstrap/setup.js";
import { DEFAULT_ANCHOR, PKGIN_REPOSITORIES } from "../../config/layout.js";
import { TargetRoot } from "../../config/target-root.js";
import { createDemoPki, writeDemoRepository } from "../../demo/repository.js";
import { serveDirectory } from "../../demo/server.js";
import { createDispatcher } from "../../net/dispatcher.js";
import type { Command } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { plainReporter } from "../reporter.js";

const schema = z.object({ keep: z.boolean().default(false) });

/** A target system as sysinst leaves it: the anchor from the base set, pkgin installed, a config with a local line. */
async function prepareTarget(rootDir: string, anchorPem: string): Promise<void> {
  const root = new TargetRoot(rootDir);
  const files: [string, string][] = [
    [DEFAULT_ANCHOR, anchorPem],
    [PKGIN_REPOSITORIES, "# pkgin repositories, written by sysinst\nhttp://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All\n"],
    ["/etc/pkg_install.conf", "# local settings, kept as they are\nCHECK_VULNERABILITIES=always\n"],
  ];
  for (const [target, text] of files) {
    await mkdir(path.dirname(root.hostPath(target)), { recursive: true });
    await writeFile(root.hostPath(target), text);
  }
}

export const command: Command = {
  name: "demo",
  summary: "Run setup against a demo repository on 127.0.0.1 (generated PKI and signed packages) into a scratch root.",
  usage: "demo [--keep]",
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, { keep: { type: "boolean" } }, schema);
    requirePositionals(positionals, []);
    const out = context.stdout;
    const work = await mkdtemp(path.join(tmpdir(), "pkgtrust-demo-"));
    const rootDir = path.join(work, "target");
    const server = await serveDirectory(path.join(work, "www"));
    try {
      out.write(`pkgtrust demo: everything below happens in ${work}\n\n`);
      out.write("1. Release engineering made the base-system anchor; a developer CA and a build machine got certificates.\n");
      const pki = await createDemoPki(context.now);
      const repository = await writeDemoRepository(path.join(work, "www/packages"), pki);
      out.write(`2. The build machine signed ${repository.packages.join(", ")} and published All/pkg_keys.pem.\n`);
      await prepareTarget(rootDir, pki.anchor.certificatePem);
      const url = new URL("packages", server.url).href;
      out.write(`3. The repository is served at ${url} (given without /All, as users often do).\n`);
      out.write(`4. pkgtrust setup --repo ${url} --root ${rootDir}\n\n`);
      const outcome = await runSetup(
        { repository: url, root: new TargetRoot(rootDir), anchorPath: DEFAULT_ANCHOR, testInstall: true },
        { dispatcher: createDispatcher({ env: {} }), now: context.now, cwd: context.cwd, emit: plainReporter(context, context.isTTY) },
      );
      if (!outcome.ok) return outcome.error.exit;
      const config = await readFile(path.join(rootDir, outcome.result.configFile), "utf8");
      out.write(`\nThe target's ${outcome.result.configFile} now reads:\n\n${config.replace(/^/gm, "    ")}\n`);
      out.write(`pkg_install on the target refuses any package that does not chain to ${DEFAULT_ANCHOR}.\n`);
      if (options.keep) out.write(`Kept ${work} (--keep).\n`);
      return 0;
    } finally {
      await server.close();
      if (!options.keep) await rm(work, { recursive: true, force: true });
    }
  },
};
