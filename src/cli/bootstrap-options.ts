import { z } from "zod";
import { unsafeCharacter } from "../config/config-value.js";
import type { PkgAdd } from "../bootstrap/test-install.js";
import { findPkgAdd } from "../config/layout.js";
import { TargetRoot } from "../config/target-root.js";
import { createDispatcher } from "../net/dispatcher.js";
import { createFetcher } from "../net/fetcher.js";
import { readInputText } from "../input-file.js";
import { CliFileError, UsageError } from "./errors.js";
import { limitOptionSchema, limitsFrom } from "./limit-options.js";

/** A value that ends up in a configuration file: no control character (config-value.ts), no ';' where asked. */
export function configText(options: { separator?: boolean } = {}) {
  return z.string().superRefine((value, context) => {
    const unsafe = unsafeCharacter(value, options);
    if (unsafe !== undefined) context.addIssue({ code: "custom", message: `must not hold ${unsafe}` });
  });
}

/** Target paths name pkg_install.conf and, through it, the trust files written into it. */
export const targetPath = configText().pipe(z.string().startsWith("/", "give the path as the target system sees it, starting with '/'"));

/** Options shared by setup and refresh. */
export const bootstrapOptionSchema = z.object({
  "ca-file": z.string().min(1).optional(),
  root: z.string().min(1).default("/"),
  config: targetPath.optional(),
  json: z.boolean().default(false),
  "non-interactive": z.boolean().default(false),
  "allow-weak": z.boolean().default(false),
  "test-package": z.string().min(1).optional(),
  "no-test-install": z.boolean().default(false),
  ...limitOptionSchema.shape,
});
export type BootstrapOptions = z.infer<typeof bootstrapOptionSchema>;

/** The limits the options ask for, and a fetcher with them over a dispatcher for the proxy settings and --ca-file. */
export async function fetcherFor(options: BootstrapOptions, env: NodeJS.ProcessEnv, cwd: string) {
  const file = options["ca-file"];
  const ca = file === undefined ? undefined : await readInputText(file, cwd, (message, error) => new CliFileError("CA_FILE_UNREADABLE", `--ca-file: ${message}`, error));
  const limits = limitsFrom(options);
  const dispatcher = createDispatcher({ env, timeouts: limits.timeouts, ...(ca === undefined ? {} : { ca }) });
  return { limits, dispatcher, fetcher: createFetcher({ dispatcher, limits }) };
}

/**
 * The pkg_add for a real test-install: the running system's; for --root, the target's own
 * under chroot, which takes root (sysinst runs as root with the base sets extracted).
 * PKGTRUST_PKG_ADD names another one (a pkg_add outside the usual places); "none" turns
 * the real install off. Without one, the reason goes with the verdict.
 */
export async function pkgAddFor(root: TargetRoot, env: NodeJS.ProcessEnv, uid = process.getuid?.()): Promise<{ pkgAdd?: PkgAdd; noPkgAddReason?: string }> {
  const override = env.PKGTRUST_PKG_ADD;
  if (override === "none") return { noPkgAddReason: "PKGTRUST_PKG_ADD=none" };
  if (override) return { pkgAdd: { program: override } };
  const program = await findPkgAdd(root);
  if (program === undefined) return { noPkgAddReason: root.dir === "/" ? "no pkg_add on this system" : `no pkg_add in ${root.dir}` };
  if (root.dir === "/") return { pkgAdd: { program } };
  if (uid !== 0) return { noPkgAddReason: `running ${program} of ${root.dir} takes chroot, which needs root` };
  return { pkgAdd: { program, chroot: root.dir } };
}

export function checkTestInstallOptions(options: BootstrapOptions): void {
  if (options["test-package"] !== undefined && options["no-test-install"]) {
    throw new UsageError("USAGE_BAD_OPTION", "--test-package and --no-test-install exclude each other");
  }
}
