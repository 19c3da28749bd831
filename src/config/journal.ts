import { z } from "zod";
import { readIfExists, removeFile, writeFileAtomic } from "./atomic-file.js";
import { ConfigError } from "./errors.js";

/**
 * The undo journal of a file transaction: before the first file is touched it records, for
 * every file about to be written, its previous bytes (or that it did not exist) and the
 * digest of what will replace it. Removing it is the commit. A run killed at any moment
 * before that leaves the journal, and the next run puts every file back from it, so that the
 * files change as one set (old or new), never some of each.
 */
const entrySchema = z.object({
  /** The target path of the file (symlinks inside the root already followed). */
  path: z.string().startsWith("/"),
  /** Base64 of the previous contents; null when the file did not exist. */
  previous: z.string().nullable(),
  mode: z.number().int().min(0).max(0o7777).nullable(),
  /** SHA-256 of the new contents: only a file that holds them was changed by this run. */
  written: z.string().regex(/^[0-9a-f]{64}$/),
});

export const journalSchema = z.object({
  version: z.literal(1),
  pid: z.number().int(),
  startedAt: z.string(),
  files: z.array(entrySchema),
  /** Target paths of the directories this run creates, outermost first. */
  directories: z.array(z.string().startsWith("/")),
});
export type Journal = z.infer<typeof journalSchema>;
export type JournalEntry = z.infer<typeof entrySchema>;

export async function writeJournal(hostPath: string, journal: Journal): Promise<void> {
  await writeFileAtomic(hostPath, Buffer.from(`${JSON.stringify(journalSchema.parse(journal))}\n`), 0o600);
}

export async function readJournal(hostPath: string): Promise<Journal | undefined> {
  const bytes = await readIfExists(hostPath);
  if (bytes === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    raw = undefined;
  }
  const parsed = journalSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError("CONFIG_JOURNAL_INVALID", `${hostPath} is not a pkgtrust journal`, { detail: { path: hostPath } });
  return parsed.data;
}

/** The commit point: once the journal is gone, the new files stand. */
export async function removeJournal(hostPath: string): Promise<void> {
  await removeFile(hostPath);
}
