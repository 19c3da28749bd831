import { z } from "zod";
import { readIfExists } from "./atomic-file.js";
import { ConfigError } from "./errors.js";
import type { TargetRoot } from "./target-root.js";

const fileRecord = z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * What pkgtrust accepted last time, so that `status` can tell when the configuration was
 * changed behind its back and `refresh` can refuse a bundle older than the last one
 * (TUF rollback attack).
 */
export const stateSchema = z.object({
  version: z.literal(1),
  repository: z.string(),
  repositoryId: z.string(),
  anchorFile: z.string(),
  configFile: z.string(),
  acceptedAt: z.string(),
  files: z.array(fileRecord),
  certificates: z.array(
    z.object({
      sha256: z.string(),
      subject: z.string(),
      issuer: z.string(),
      serialNumber: z.string(),
      role: z.string(),
      notBefore: z.string(),
      notAfter: z.string(),
    }),
  ),
  /** Highest CRL number accepted per issuer (subject string). */
  crlNumbers: z.record(z.string(), z.string()),
});
export type TrustState = z.infer<typeof stateSchema>;

export async function readState(root: TargetRoot, statePath: string): Promise<TrustState | undefined> {
  const bytes = await readIfExists(root.hostPath(statePath));
  return bytes === undefined ? undefined : parseState(bytes, statePath);
}

export function parseState(bytes: Uint8Array, statePath: string): TrustState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ConfigError("CONFIG_STATE_INVALID", `${statePath} is not valid JSON`, { cause: error, detail: { path: statePath } });
  }
  const result = stateSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError("CONFIG_STATE_INVALID", `${statePath} does not hold a pkgtrust state: ${result.error.issues[0]?.message ?? ""}`, {
      detail: { path: statePath },
    });
  }
  return result.data;
}

export function serialiseState(state: TrustState): Uint8Array {
  return Buffer.from(`${JSON.stringify(stateSchema.parse(state), null, 2)}\n`);
}
