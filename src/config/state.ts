import { createHash } from "node:crypto";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import type { TargetRoot } from "./target-root.js";

const fileRecord = z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const baseSchema = z.object({
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
});

const crlNumber = z.string().regex(/^\d+$/);

/**
 * What pkgtrust accepted last time, so that `status` can tell when the configuration was
 * changed behind its back and `refresh` can refuse a bundle older than the last one
 * (TUF rollback attack).
 */
export const stateSchema = baseSchema.extend({
  version: z.literal(2),
  /** Highest CRL number accepted per issuer, by crlIssuerKey; `issuer` is for people. */
  crls: z.record(z.string().regex(/^[0-9a-f]{64}$/), z.object({ issuer: z.string(), number: crlNumber })),
});

/** Version 1 keyed the CRL numbers by a library's display string of the issuer. */
const version1Schema = baseSchema.extend({ version: z.literal(1), crlNumbers: z.record(z.string(), crlNumber) });

export type TrustState = z.infer<typeof stateSchema> & {
  /**
   * CRL numbers read from a version 1 state.json, by the issuer's display string: they bind
   * a bundle as before and become `crls` entries on the next successful write (never written).
   */
  readonly legacyCrlNumbers?: Readonly<Record<string, string>>;
};

/**
 * The key of an issuer in `crls`: SHA-256 of the canonical encoding of its Name (hex, as
 * Crl.issuerName holds it), the form in which X509_NAME_cmp compares names.
 */
export function crlIssuerKey(canonicalName: string): string {
  return createHash("sha256").update(Buffer.from(canonicalName, "hex")).digest("hex");
}

/** The highest CRL number per issuer display string, for people (reports and notices). */
export function crlNumbersByIssuer(state: TrustState): Record<string, string> {
  const numbers: Record<string, string> = { ...state.legacyCrlNumbers };
  for (const { issuer, number } of Object.values(state.crls)) {
    const known = numbers[issuer];
    if (known === undefined || BigInt(known) < BigInt(number)) numbers[issuer] = number;
  }
  return numbers;
}

export async function readState(root: TargetRoot, statePath: string): Promise<TrustState | undefined> {
  const bytes = await root.readIfExists(statePath);
  return bytes === undefined ? undefined : parseState(bytes, statePath);
}

export function parseState(bytes: Uint8Array, statePath: string): TrustState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ConfigError("CONFIG_STATE_INVALID", `${statePath} is not valid JSON`, { cause: error, detail: { path: statePath } });
  }
  const version1 = version1Schema.safeParse(parsed);
  if (version1.success) {
    const { version: _version, crlNumbers, ...rest } = version1.data;
    return { ...rest, version: 2, crls: {}, legacyCrlNumbers: crlNumbers };
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
