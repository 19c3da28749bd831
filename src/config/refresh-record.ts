import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "./atomic-file.js";
import { stateLayout } from "./layout.js";
import type { TargetRoot } from "./target-root.js";

/**
 * The outcome of the last `pkgtrust refresh`, for `status`: a refused refresh (a frozen or
 * rolled-back mirror) must not leave status saying "no warnings". Kept apart from
 * state.json, which records what was accepted and is what the rollback rule compares with;
 * this file only records what happened, and a damaged one is read as absent.
 */
export const refreshRecordSchema = z.object({
  version: z.literal(1),
  /** When the refresh ran (ISO 8601). */
  at: z.string(),
  ok: z.boolean(),
  /** Whether it changed any file (a successful refresh only). */
  changed: z.boolean(),
  /** The failure's code and message (a failed refresh only). */
  code: z.string().optional(),
  message: z.string().optional(),
});
export type RefreshRecord = z.infer<typeof refreshRecordSchema>;

/** Beside state.json (target path). */
export function refreshRecordPath(configPath: string): string {
  return path.posix.join(stateLayout(configPath).dir, "last-refresh.json");
}

export async function readRefreshRecord(root: TargetRoot, configPath: string): Promise<RefreshRecord | undefined> {
  const bytes = await root.readIfExists(refreshRecordPath(configPath)).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    const parsed = refreshRecordSchema.safeParse(JSON.parse(bytes.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRefreshRecord(root: TargetRoot, configPath: string, record: RefreshRecord): Promise<void> {
  const file = await root.writablePath(refreshRecordPath(configPath));
  await writeFileAtomic(file, Buffer.from(`${JSON.stringify(refreshRecordSchema.parse(record), null, 2)}\n`), 0o644);
}
