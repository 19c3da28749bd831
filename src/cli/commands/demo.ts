import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { BootstrapEvent } from "../../bootstrap/events.js";
import { runSetup } from "../../bootstrap/setup.js";
import { DEFAULT_ANCHOR, PKGIN_REPOSITORIES } from "../../config/layout.js";
import { TargetRoot } from "../../config/target-root.js";
import { createDemoPki, writeDemoRepository } from "../../demo/repository.js";
import { serveDirectory, type StaticServer } from "../../demo/server.js";
import { createDispatcher } from "../../net/dispatcher.js";
import { createFetcher } from "../../net/fetcher.js";
import type { Command, CommandContext } from "../command.js";
import { parseCommandLine, requirePositionals } from "../options.js";
import { plainReporter } from "../reporter.js";

const schema = z.object({ keep: z.boolean().default(false), serve: z.boolean().default(false) });

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

/** The scratch directory's layout: the repository a build machine published, and the target system. */
interface Demo {
  readonly work: string;
  readonly target: string;
  readonly all: string;
  readonly url: string;
  readonly packages: readonly string[];
  readonly server: StaticServer;
}

async function startDemo(context: CommandContext): Promise<Demo> {
  const work = await mkdtemp(path.join(tmpdir(), "pkgtrust-demo-"));
  const target = path.join(work, "target");
  try {
    const pki = await createDemoPki(context.now);
    const repository = await writeDemoRepository(path.join(work, "www/packages"), pki);
    await prepareTarget(target, pki.anchor.certificatePem);
    const server = await serveDirectory(path.join(work, "www"));
    return { work, target, all: repository.all, url: new URL("packages", server.url).href, packages: repository.packages, server };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/** Whether `pkgtrust` can be run by name; if not, the commands printed need the README's "Installing". */
async function onPath(env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? "").split(":").filter(Boolean)) {
    if (await access(path.join(dir, "pkgtrust"), constants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}

const PATH_NOTE = "(pkgtrust is not on your PATH: see 'Installing' in README.md, e.g. npm link; or run node bin/pkgtrust.mjs)";

/** The file lines of setup's report with the host path, so that no one looks for them in the real /etc. */
function hostPaths(demo: Demo, emit: (event: BootstrapEvent) => void): (event: BootstrapEvent) => void {
  return (event) => emit(event.type === "file-written" ? { ...event, file: { ...event.file, path: path.join(demo.target, event.file.path) } } : event);
}

/** What was written where, how to look at it, and the three commands to try next. */
function closing(demo: Demo, written: readonly string[], keep: boolean, pathNote: boolean): string[] {
  const dir = keep ? demo.work : "DIR";
  const anchor = path.join(keep ? demo.target : "DIR/target", DEFAULT_ANCHOR);
  return [
    "",
    "What the demo wrote (host paths):",
    ...written.map((file) => `  ${file}`),
    `  ${demo.all}/  the repository: ${demo.packages.length} signed packages, pkg_summary.gz, pkg_keys.pem`,
    keep ? `Kept ${demo.work} (--keep): look at it, and remove it when done.` : `Removed ${demo.work}; run 'pkgtrust demo --keep' to keep it and look at it.`,
    "",
    `Try next${keep ? "" : " (DIR: the directory 'pkgtrust demo --keep' keeps)"}:`,
    "  pkgtrust demo --serve",
    "      the setup wizard against a live demo repository: it prints the command to run",
    `  pkgtrust status --root ${dir}/target`,
    "      what setup recorded, fingerprints and days to expiry",
    `  pkgtrust verify-package ${dir}/www/packages/All/${demo.packages[0] ?? "digest"}.tgz --anchor ${anchor}`,
    "      the verdict pkg_install gives a signed package",
    ...(pathNote ? [PATH_NOTE] : []),
    "More: README.md, docs/workflow.md, man ./docs/pkgtrust.1",
  ];
}

async function runOnce(context: CommandContext, demo: Demo, keep: boolean): Promise<number> {
  const out = context.stdout;
  out.write(`pkgtrust demo: everything below happens in ${demo.work}, ${keep ? "kept afterwards (--keep)" : "deleted at the end (--keep keeps it)"}.\n\n`);
  out.write("1. Release engineering made the base-system anchor; a developer CA and a build machine got certificates.\n");
  out.write(`2. The build machine signed ${demo.packages.join(", ")} and published All/pkg_keys.pem.\n`);
  out.write(`3. The repository is served at ${demo.url} (given without /All, as users often do).\n`);
  out.write(`4. ${demo.target} is a target system as sysinst leaves it: the anchor, pkgin, a pkg_install.conf with a local line.\n`);
  out.write(`5. pkgtrust setup --repo ${demo.url} --root ${demo.target}\n`);
  out.write(`   (setup's paths are the target's: its /etc/pkg_install.conf is ${path.join(demo.target, "etc/pkg_install.conf")})\n\n`);
  const outcome = await runSetup(
    { repository: demo.url, root: new TargetRoot(demo.target), anchorPath: DEFAULT_ANCHOR, testInstall: true },
    { fetcher: createFetcher({ dispatcher: createDispatcher({ env: {} }) }), signal: context.signal, now: context.now, cwd: context.cwd, emit: hostPaths(demo, plainReporter(context, context.isTTY)) },
  );
  if (!outcome.ok) return outcome.error.exit;
  const config = await readFile(path.join(demo.target, outcome.result.configFile), "utf8");
  out.write(`\nThe target's ${outcome.result.configFile} now reads:\n\n${config.replace(/^/gm, "    ")}\n`);
  out.write(`pkg_install on the target refuses any package that does not chain to ${DEFAULT_ANCHOR}.\n`);
  const written = outcome.result.files.filter((file) => file.status !== "unchanged").map((file) => path.join(demo.target, file.path));
  out.write(`${closing(demo, written, keep, !(await onPath(context.env))).join("\n")}\n`);
  return 0;
}

/** demo --serve: the repository stays up for the wizard until SIGINT or SIGTERM. */
async function serve(context: CommandContext, demo: Demo, keep: boolean): Promise<number> {
  const stopped = new Promise<string>((resolve) => {
    const stop = () => resolve(String((context.signal.reason as { detail?: { signal?: string } } | undefined)?.detail?.signal ?? "stopped"));
    if (context.signal.aborted) stop();
    else context.signal.addEventListener("abort", stop, { once: true });
  });
  const lines = [
    `pkgtrust demo --serve: the demo repository is served at ${demo.url} until Ctrl-C or SIGTERM.`,
    `${demo.target} is a target system as sysinst leaves it (the anchor, pkgin, a local pkg_install.conf).`,
    "",
    "Run the setup wizard against it, in another terminal:",
    "",
    `    pkgtrust setup --repo ${demo.url} --root ${demo.target}`,
    "",
    "(add --non-interactive for the plain report). Then look at what it did:",
    "",
    `    pkgtrust status --root ${demo.target}`,
    "",
    ...((await onPath(context.env)) ? [] : [PATH_NOTE, ""]),
    `Stopping removes ${demo.work}${keep ? " unless --keep, which is given: it stays" : " (--keep keeps it)"}.`,
  ];
  context.stdout.write(`${lines.join("\n")}\n`);
  const signal = await stopped;
  context.stdout.write(`\npkgtrust demo: ${signal}, the server is stopped${keep ? `; kept ${demo.work}` : `; removed ${demo.work}`}.\n`);
  return 0;
}

export const command: Command = {
  name: "demo",
  summary:
    "Run setup against a demo repository on 127.0.0.1 (generated PKI and signed packages) into a scratch root, then say what was written where and what to try next. --keep keeps the scratch directory; --serve keeps the repository up for the setup wizard and prints the command to run, until Ctrl-C or SIGTERM.",
  usage: "demo [--keep] [--serve]",
  stopsOnSignal: true,
  async run(context) {
    const { options, positionals } = parseCommandLine(context.argv, schema);
    requirePositionals(positionals, []);
    const demo = await startDemo(context);
    try {
      return options.serve ? await serve(context, demo, options.keep) : await runOnce(context, demo, options.keep);
    } finally {
      await demo.server.close();
      if (!options.keep) await rm(demo.work, { recursive: true, force: true });
    }
  },
};
