/**
 * `apply --json` reports backfill progress after every encoder batch (issue #11), not once per
 * store page: N rows with batch size b give at least N/b progress events, rising to N.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, runCli } from '../helpers/cli.js'
import { createPgliteProject } from '../helpers/pglite-project.js'

const ROWS = 600
const BATCH = 100
let dir: string

beforeAll(async () => {
  dir = await createPgliteProject('embedform-progress-', ROWS)
}, 120_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('apply --json progress', () => {
  it(`emits at least rows / batch_size progress events for the backfill, although a store page holds 1,000 rows`, async () => {
    const r = await runCli(['apply', '--auto-approve', '--json'], { cwd: dir, env: { EMBEDDING_BATCH_SIZE: String(BATCH) }, timeoutMs: 240_000 })
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r.stdout)
    const backfill = events.find((e) => e.type === 'step-start' && String(e.step).endsWith('/backfill'))?.step
    const done = events.filter((e) => e.type === 'progress' && e.step === backfill).map((e) => e.done as number)
    expect(done.length).toBeGreaterThanOrEqual(ROWS / BATCH)
    expect(done).toEqual([...done].sort((a, b) => a - b))
    expect(done.at(-1)).toBe(ROWS)
  }, 300_000)
})
