/**
 * The one event stream of setup and refresh (architecture.md): the plain and JSON
 * reporters and the TUI all consume these; none of them fetches or writes files.
 */

import type { NotRestored } from "../config/transaction.js";

export const STEPS = ["fetch", "verify", "write", "test-install"] as const;
export type Step = (typeof STEPS)[number];

export const STEP_TITLES: Readonly<Record<Step, string>> = {
  fetch: "Fetch the key bundle",
  verify: "Verify the keys against the anchor",
  write: "Write the pkg_install configuration",
  "test-install": "Test-install a signed package",
};

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
  readonly role: "intermediate" | "signing" | "other";
  readonly status: "valid" | "invalid";
  readonly code?: string;
  readonly reason: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days from the run's time to notAfter (negative when expired). */
  readonly daysLeft: number;
}

export interface FileOutcome {
  /** As the target system sees it. */
  readonly path: string;
  readonly status: "created" | "updated" | "unchanged";
}

export interface TestInstallOutcome {
  readonly package: string;
  readonly url: string;
  /** Which check ran: pkg_add for real, or pkgtrust's native pkg_install-exact verification. */
  readonly check: "pkg_add" | "native";
  readonly why: string;
  readonly trusted: boolean;
  readonly signer?: string;
}

export interface FailureSummary {
  readonly step: Step;
  readonly code: string;
  readonly message: string;
  readonly next: string;
  /** True when every file is as it was before the run. */
  readonly unchanged: boolean;
  /** The files the rollback could not put back (then unchanged is false), with why. */
  readonly notRestored?: readonly NotRestored[];
}

export type BootstrapEvent =
  | { readonly type: "step-started"; readonly step: Step; readonly detail: string }
  | { readonly type: "progress"; readonly step: Step; readonly url: string; readonly received: number; readonly total?: number }
  /** A download's attempt starts (the second and later ones say why the one before ended); givesUpAt: epoch ms of its deadline. */
  | {
      readonly type: "fetch-attempt";
      readonly step: Step;
      readonly url: string;
      readonly attempt: number;
      readonly attempts: number;
      readonly givesUpAt: number;
      readonly retryAfter?: { readonly code: string; readonly message: string };
    }
  | { readonly type: "certificate-reviewed"; readonly certificate: CertificateSummary }
  | { readonly type: "file-written"; readonly file: FileOutcome }
  | { readonly type: "step-finished"; readonly step: Step; readonly summary: string }
  | { readonly type: "step-skipped"; readonly step: Step; readonly reason: string }
  /** Something the user must know that is not a failure (a forgotten state, an interrupted run put back). */
  | { readonly type: "notice"; readonly step: Step; readonly message: string }
  | { readonly type: "step-failed"; readonly failure: FailureSummary }
  | { readonly type: "rolled-back"; readonly files: readonly string[]; readonly notRestored: readonly NotRestored[] };

export type EmitEvent = (event: BootstrapEvent) => void;
