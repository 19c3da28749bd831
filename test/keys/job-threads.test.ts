import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnThreads } from "../../src/keys/repo-sign/job-threads.js";
import type { Outcome } from "../../src/keys/repo-sign/package-job.js";

describe("repo sign's job threads", () => {
  it("reports every package as failed, none dropped, when the threads stop", async () => {
    // A thread that dies at once, as a crash would: its packages and the rest are still reported.
    const entry = join(mkdtempSync(join(tmpdir(), "pkgtrust-threads-")), "dies.mjs");
    writeFileSync(entry, "process.exit(3);\n");
    const files = ["a-1.0.tgz", "b-1.0.tgz", "c-1.0.tgz", "d-1.0.tgz", "e-1.0.tgz", "f-1.0.tgz", "g-1.0.tgz", "h-1.0.tgz", "i-1.0.tgz", "j-1.0.tgz"];
    const outcomes: Outcome[] = [];
    const setup = { dir: "/nonexistent", keyPem: "", certPem: "", anchorDers: [], minDays: 14, time: 0, force: false, dryRun: true, expiredGraceDays: 90, digests: [] };
    await runOnThreads(files, { entry, threads: 2, setup, onRead: () => undefined, onOutcome: async (outcome) => void outcomes.push(outcome) });
    expect(outcomes.map((o) => o.file).sort()).toEqual(files);
    expect(outcomes.every((o) => o.kind === "failed" && o.code === "INTERNAL")).toBe(true);
  });
});
