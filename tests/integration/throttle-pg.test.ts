/**
 * Throttling across processes on native PostgreSQL, through the built CLI: an apply limited by
 * --max-rate is paused by `embedform pause` run from another process (the pause travels through
 * the journal in the store), stops writing, and `embedform resume --max-rate` lets it finish
 * faster. The real replica-lag probe reads pg_stat_replication (no standby here: no lag).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgDriver, PgvectorAdapter } from '../../plugins/pgvector/index.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { seedDocs, spamPassages } from '../helpers/spam-corpus.js'

const ROWS = 1500
let db: TestDatabase
let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 })

interface Line {
  type?: string
  step?: string
  done?: number
  message?: string
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-throttle-'))
  writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
}, 120_000)

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('throttled apply on native PostgreSQL', () => {
  it('is paused and resumed from another process, with the reason in its progress', async () => {
    const run = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '50', '--max-rate', '150', '--max-replica-lag', '5000'], { cwd: dir, timeoutMs: 120_000 })
    await run.waitFor((l) => {
      const e = l.startsWith('{') ? (JSON.parse(l) as Line) : undefined
      return e?.type === 'progress' && e.step?.endsWith('/backfill') && (e.done ?? 0) >= 100 ? e : undefined
    })
    const paused = await cli(['pause', '--json'])
    expect(paused.code, paused.stderr + paused.stdout).toBe(0)
    expect(JSON.parse(paused.stdout)).toMatchObject({ collection: 'docs', control: { paused: true } })
    await run.waitFor((l) => (l.includes('throttled: paused by') ? l : undefined), 10_000)
    // The first generation is built in its own column and renamed to `embedding` by the cutover.
    const written = async () => {
      const [col] = await db.sql<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'docs' AND column_name LIKE 'embedding%' ORDER BY column_name DESC LIMIT 1`)
      return Number((await db.sql<{ n: string }>(`SELECT count(${col!.c}) AS n FROM docs`))[0]?.n)
    }
    // Nothing but the batch in flight lands while paused.
    const atPause = await written()
    await new Promise((r) => setTimeout(r, 1500))
    expect(await written()).toBeLessThanOrEqual(atPause + 50)
    expect(await written()).toBeLessThan(ROWS)

    const resumed = await cli(['resume', '--max-rate', '100000', '--json'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ control: { paused: false, maxRate: 100000 } })
    const done = await run.done
    expect(done.code, done.stderr).toBe(0)
    const lines = jsonLines(done.stdout) as Line[]
    const logs = lines.filter((l) => l.type === 'log').map((l) => l.message ?? '')
    expect(logs.some((m) => /docs: throttled: rate limited to 150 rows\/s/.test(m))).toBe(true)
    expect(logs.some((m) => /docs: throttled: paused by \S+@\S+ pid \d+ \(`embedform resume` continues\)/.test(m))).toBe(true)
    expect(lines.find((l) => l.type === 'result')).toMatchObject({ ok: true })
    expect(await written()).toBe(ROWS)
    expect((await cli(['pause'])).code).toBe(2)
  })

  it('reads replica lag from pg_stat_replication: none without standbys', async () => {
    const adapter = new PgvectorAdapter('pgvector', new PgDriver(db.url))
    try {
      expect(await adapter.replicaLagMs({ name: 'docs', store: 'main', profile: 'starter', target: 'docs', key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding' })).toBeNull()
    } finally {
      await adapter.close()
    }
  })
})
