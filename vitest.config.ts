import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["build/**", "dist/**", "node_modules/**"],
    setupFiles: ["test/setup.ts"],
    // Records the checks skipped for want of a program and prints them at the end (test/fixtures/requirements.ts).
    globalSetup: ["test/fixtures/requirements-summary.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: key generation and openssl cross-checks are CPU-bound.
    maxWorkers: 2,
  },
});
