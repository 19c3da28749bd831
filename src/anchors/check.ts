/**
 * `pkgtrust anchors check`: does each anchor file the catalogue names hold exactly the
 * catalogued certificates? pkg_install trusts every certificate in its anchor file
 * (CERTIFICATE_ANCHOR_PKGS), so an extra certificate widens trust as much as a swapped one.
 */
import type { TargetRoot } from "../config/target-root.js";
import { CertificateError } from "../pki/errors.js";
import { readTrustFile, type TrustFile } from "../trust/trust-files.js";
import type { Catalogue, CatalogueEntry } from "./catalogue.js";
import { AnchorsError, type AnchorsErrorCode } from "./errors.js";

export interface AnchorFileCheck {
  /** Target path of the anchor file. */
  readonly path: string;
  readonly ok: boolean;
  readonly code?: AnchorsErrorCode;
  readonly reason: string;
  /** What the catalogue lists for this file. */
  readonly expected: readonly Pick<CatalogueEntry, "name" | "sha256">[];
  /** What the file holds. */
  readonly found: readonly { readonly subject: string; readonly sha256: string; readonly catalogued: boolean }[];
}

/** Groups the entries by file, in catalogue order. */
function byPath(catalogue: Catalogue): Map<string, CatalogueEntry[]> {
  const files = new Map<string, CatalogueEntry[]>();
  for (const entry of catalogue.anchors) files.set(entry.path, [...(files.get(entry.path) ?? []), entry]);
  return files;
}

async function checkFile(root: TargetRoot, path: string, entries: readonly CatalogueEntry[]): Promise<AnchorFileCheck> {
  const expected = entries.map(({ name, sha256 }) => ({ name, sha256 }));
  const fail = (code: AnchorsErrorCode, reason: string, found: AnchorFileCheck["found"] = []): AnchorFileCheck => ({ path, ok: false, code, reason, expected, found });
  let file: TrustFile | undefined;
  try {
    file = await readTrustFile(root, path);
  } catch (error) {
    // Only a damaged file is malformed (PEM_*, parse errors); a read refused by the root (a link out of it) stays an error.
    if (!(error instanceof CertificateError)) throw error;
    return fail("ANCHOR_FILE_MALFORMED", `${error.message} [${error.code}]`);
  }
  if (file === undefined) return fail("ANCHOR_FILE_MISSING", "the file does not exist");
  const { certificates } = file;
  const wanted = new Set(entries.map((entry) => entry.sha256));
  const found = certificates.map((c) => ({ subject: c.subject, sha256: c.sha256, catalogued: wanted.has(c.sha256) }));
  const extra = found.filter((c) => !c.catalogued);
  if (extra.length > 0) return fail("ANCHOR_MISMATCH", `holds ${extra.map((c) => c.subject).join(", ")}, which the catalogue does not list`, found);
  const present = new Set(found.map((c) => c.sha256));
  const missing = entries.filter((entry) => !present.has(entry.sha256));
  if (missing.length > 0) return fail("ANCHOR_MISMATCH", `lacks ${missing.map((entry) => entry.name).join(", ")}`, found);
  return { path, ok: true, reason: `holds exactly the ${entries.length} catalogued certificate${entries.length === 1 ? "" : "s"}`, expected, found };
}

/** One result per anchor file; ANCHORS_CATALOGUE_EMPTY when there is nothing to check. */
export async function checkAnchors(catalogue: Catalogue, root: TargetRoot): Promise<AnchorFileCheck[]> {
  // Fail closed: a check that checked nothing must not pass.
  if (catalogue.anchors.length === 0) throw new AnchorsError("ANCHORS_CATALOGUE_EMPTY", "the anchor catalogue names no anchor");
  const results: AnchorFileCheck[] = [];
  for (const [path, entries] of byPath(catalogue)) results.push(await checkFile(root, path, entries));
  return results;
}
