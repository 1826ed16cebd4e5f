import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    // Integration suites share one native PostgreSQL server and the model cache; two workers
    // at most, matching the 2-core CI machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    env: { EMBEDFORM_CACHE_DIR: process.env.EMBEDFORM_CACHE_DIR ?? resolve('.cache/embedform') },
  },
})
