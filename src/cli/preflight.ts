import { stat } from "node:fs/promises";
import { loadAnchor } from "../trust/anchor.js";
import type { EmitEvent, FailureSummary } from "../bootstrap/events.js";
import type { SetupOutcome } from "../bootstrap/setup.js";
import { ConfigError } from "../config/errors.js";
import type { TargetRoot } from "../config/target-root.js";
import { asPkgtrustError } from "../errors.js";

/** setup and refresh, before any network: the target root is a directory (a mistyped --root fails at once). */
export async function checkRoot(root: TargetRoot): Promise<void> {
  const stats = await stat(root.dir).catch(() => undefined);
  if (!stats?.isDirectory()) {
    throw new ConfigError("CONFIG_ROOT_MISSING", `the target root ${root.dir} ${stats ? "is not a directory" : "does not exist"}`, { detail: { root: root.dir } });
  }
}

/**
 * setup and refresh, before any network: the anchor is a PEM file inside the root (capped as
 * every file pkgtrust reads whole, TargetRoot.readIfExists) holding a self-signed CA
 * certificate, so that a missing or wrong anchor is reported before a download that could
 * only end in the same error. Undefined when the anchor is usable, else the failure of the
 * "verify" step, emitted as runSetup would emit it, so that the plain report, the JSON
 * and the wizard's Failure screen show it as they show any other; nothing was fetched.
 */
export async function refusedAnchor(root: TargetRoot, anchorPath: string, emit: EmitEvent): Promise<SetupOutcome | undefined> {
  try {
    await loadAnchor(root, anchorPath);
    return undefined;
  } catch (thrown) {
    const error = asPkgtrustError(thrown);
    const failure: FailureSummary = { step: "verify", code: error.code, message: error.message, next: error.next, unchanged: true };
    emit({ type: "step-started", step: "verify", detail: `against ${anchorPath}` });
    emit({ type: "step-failed", failure });
    return { ok: false, failure, error };
  }
}
