import { createHash } from "node:crypto";
import { ConfigError } from "../config/errors.js";
import { defaultConfigPath, stateLayout } from "../config/layout.js";
import { OWNED_VARIABLES, readSettings } from "../config/pkg-install-conf.js";
import { recoveryNotice, settleInterruptedRun } from "../config/recovery.js";
import { readState, type TrustState } from "../config/state.js";
import type { TargetRoot } from "../config/target-root.js";
import { readTrustFile } from "../trust/trust-files.js";
import { daysUntil } from "./certificate-summary.js";
import { ownedSettings } from "./trust-files.js";

/** Certificates expiring within this many days are warned about. */
export const EXPIRY_WARNING_DAYS = 30;

export interface StatusCertificate {
  readonly file: string;
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}

export interface StatusFile {
  readonly path: string;
  readonly sha256: string | null;
  /** Whether the file still holds what pkgtrust wrote. */
  readonly matches: boolean;
}

export interface StatusReport {
  readonly repository: string;
  readonly configFile: string;
  readonly anchorFile: string;
  readonly acceptedAt: string;
  readonly files: readonly StatusFile[];
  readonly certificates: readonly StatusCertificate[];
  readonly warnings: readonly string[];
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * The state pkgtrust recorded for a configuration, or a coded error when there is none. A run
 * killed while writing is finished first (rolled back from its journal, its temporary files
 * removed), so that the state and the files read are one set; `onNotice` hears what was done.
 */
export async function loadState(root: TargetRoot, configPath: string | undefined, onNotice?: (message: string) => void): Promise<TrustState> {
  const config = configPath ?? (await defaultConfigPath(root));
  const notice = recoveryNotice(await settleInterruptedRun(root, config));
  if (notice !== undefined) onNotice?.(notice);
  const state = await readState(root, stateLayout(config).state);
  if (state === undefined) {
    throw new ConfigError("CONFIG_NOT_CONFIGURED", `pkgtrust has not configured ${config} yet`, { detail: { config } });
  }
  return state;
}

/** What pkgtrust configured, checked against what is on disk now. */
export async function readStatus(root: TargetRoot, configPath: string | undefined, now: Date): Promise<StatusReport> {
  const warnings: string[] = [];
  const state = await loadState(root, configPath, (notice) => warnings.push(notice));
  const paths = stateLayout(state.configFile).repository(state.repositoryId);
  const expected = ownedSettings(new URL(state.repository), paths);
  const configBytes = await root.readIfExists(state.configFile);
  const settings = readSettings(configBytes?.toString("utf8") ?? "");
  for (const name of OWNED_VARIABLES) {
    const value = settings.get(name);
    if (value !== expected[name]) warnings.push(`${state.configFile}: ${name} is ${value === undefined ? "unset" : `'${value}'`}, pkgtrust wrote '${expected[name]}'`);
  }
  const files: StatusFile[] = [];
  const certificates: StatusCertificate[] = [];
  for (const record of state.files) {
    const file = await readTrustFile(root, record.path);
    const digest = file === undefined ? null : sha256(file.bytes);
    files.push({ path: record.path, sha256: digest, matches: digest === record.sha256 });
    if (file === undefined) warnings.push(`${record.path} is missing`);
    else if (digest !== record.sha256) warnings.push(`${record.path} was changed after pkgtrust wrote it`);
    if (file === undefined) continue;
    for (const certificate of file.certificates) {
      const daysLeft = daysUntil(certificate.notAfter, now);
      certificates.push({ file: record.path, subject: certificate.subject, issuer: certificate.issuer, sha256: certificate.sha256, notAfter: certificate.notAfter.toISOString(), daysLeft });
      if (daysLeft < 0) warnings.push(`${certificate.subject} in ${record.path} expired on ${certificate.notAfter.toISOString()}: run 'pkgtrust refresh'`);
      else if (daysLeft < EXPIRY_WARNING_DAYS) warnings.push(`${certificate.subject} in ${record.path} expires in ${daysLeft} days: run 'pkgtrust refresh' after the repository renews it`);
    }
  }
  return { repository: state.repository, configFile: state.configFile, anchorFile: state.anchorFile, acceptedAt: state.acceptedAt, files, certificates, warnings };
}
