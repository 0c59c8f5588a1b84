import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Vitest's default is one worker per core minus one: a single worker on a 2-core machine. Most
    // test files wait on servers (PostgreSQL, the Data API and catalog endpoints), so two workers
    // overlap those waits: `npm test` on 2 cores went from about 400 s to about 300 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
