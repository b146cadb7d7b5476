import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/scratch/ holds local experiments (git-ignored): CI never sees them, so neither does `npm test`.
    exclude: ["test/scratch/**", "**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start their own nats-server processes and write temp dirs; forks keep them isolated.
    pool: "forks",
  },
});
