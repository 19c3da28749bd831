import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["build/**", "dist/**", "node_modules/**"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: key generation and openssl cross-checks are CPU-bound.
    maxWorkers: 2,
  },
});
