/**
 * The catalogue of base-system trust anchors: which anchor files a NetBSD release installs,
 * where, and the SHA-256 fingerprint of each certificate in them (anchors/README.md).
 * The shipped catalogue (anchors/catalogue.json) is built into pkgtrust.
 */
import { z } from "zod";
import shipped from "../../anchors/catalogue.json" with { type: "json" };
import { readInputBytes } from "../input-file.js";
import { AnchorsError } from "./errors.js";

/** Endless-data guard: a catalogue names a handful of certificates. */
export const MAX_CATALOGUE_BYTES = 256 * 1024;

/** "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it, or plain hex; kept as lowercase hex. */
const fingerprint = z
  .string()
  .regex(/^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/, "a SHA-256 fingerprint: 64 hex digits, colons allowed between bytes")
  .transform((value) => value.replace(/:/g, "").toLowerCase());

export const catalogueSchema = z.strictObject({
  version: z.literal(1),
  anchors: z.array(
    z.strictObject({
      /** Shown in messages, e.g. "pkgsrc CA 2026". */
      name: z.string().min(1).max(200),
      /** The anchor file's path on the installed system. */
      path: z.string().regex(/^\/[^\0]*$/, "an absolute path on the installed system"),
      /** Of the certificate's DER encoding, as Certificate.sha256. */
      sha256: fingerprint,
      comment: z.string().optional(),
    }),
  ),
});
export type Catalogue = z.output<typeof catalogueSchema>;
export type CatalogueEntry = Catalogue["anchors"][number];

/** Validates a catalogue's JSON text; AnchorsError with ANCHORS_CATALOGUE_* codes. */
export function parseCatalogue(text: string, source: string): Catalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AnchorsError("ANCHORS_CATALOGUE_INVALID", `${source}: not valid JSON: ${(error as Error).message}`, { detail: { source } });
  }
  return validate(raw, source);
}

function validate(raw: unknown, source: string): Catalogue {
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new AnchorsError("ANCHORS_CATALOGUE_INVALID", `${source}: ${where}${issue?.message ?? "invalid catalogue"}`, { detail: { source } });
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.anchors) {
    const key = `${entry.path}\n${entry.sha256}`;
    if (seen.has(key)) throw new AnchorsError("ANCHORS_CATALOGUE_INVALID", `${source}: ${entry.name} is listed twice for ${entry.path}`, { detail: { source } });
    seen.add(key);
  }
  return parsed.data;
}

/** The catalogue built into this pkgtrust. */
export function shippedCatalogue(): Catalogue {
  return validate(shipped, "the built-in catalogue");
}

/** Reads --catalogue FILE (relative to `cwd`) with the checks of every file named on the command line. */
export async function readCatalogue(file: string, cwd = process.cwd()): Promise<Catalogue> {
  const bytes = await readInputBytes(file, cwd, (message, options) => new AnchorsError("ANCHORS_CATALOGUE_UNREADABLE", message, { ...options, detail: { source: file } }));
  if (bytes.length > MAX_CATALOGUE_BYTES) throw new AnchorsError("ANCHORS_CATALOGUE_INVALID", `${file}: more than ${MAX_CATALOGUE_BYTES} bytes`, { detail: { source: file } });
  return parseCatalogue(bytes.toString("utf8"), file);
}
