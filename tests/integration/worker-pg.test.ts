/**
 * Issue #13's workers on native PostgreSQL, through the built CLI: an apply started with
 * --workers shares its backfill with two `embedform worker` processes through key-range leases;
 * one worker is SIGKILLed while it holds a lease. Its range is taken over after the lease expires,
 * the apply completes, every row holds the vector of its current text, and every row was written
 * exactly once (counted by a test-only trigger).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, instrumentVectorWrites, type TestDatabase } from '../helpers/pg.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const ROWS = 2400
let db: TestDatabase
let dir: string

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-worker-pg-'))
  writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
  const first = await runCli(['apply', '--auto-approve'], { cwd: dir, timeoutMs: 180_000 })
  expect(first.code, first.stderr).toBe(0)
  await instrumentVectorWrites(db, 'embedding__g2', 0.1)
})

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('workers sharing a backfill (native PostgreSQL)', () => {
  it('3 workers, one SIGKILLed mid-lease: every row embedded exactly once, none lost', async () => {
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')
    const common = ['--lease-ms', '1500', '--batch-size', '50', '--json']
    const workers = [spawnCli(['worker', 'docs', ...common], { cwd: dir, timeoutMs: 240_000 }), spawnCli(['worker', 'docs', ...common], { cwd: dir, timeoutMs: 240_000 })]
    const apply = spawnCli(['apply', '--auto-approve', '--workers', '1', '--range-rows', '200', ...common], { cwd: dir, timeoutMs: 240_000 })
    const victim = workers[0]!
    // Killed while it holds a lease, with part of the range written.
    const claimed = await victim.waitFor((l) => (l.includes('"claimed"') ? (JSON.parse(l) as { range: { id: number } }).range.id : undefined), 120_000)
    await victim.waitFor((l) => (l.includes('"claimed"') && !l.includes(`"id":${claimed},`) ? true : undefined), 120_000).catch(() => undefined)
    const partial = (await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM embed_writes'))[0]!.n
    victim.child.kill('SIGKILL')
    const killedHolder = (await db.sql<{ holder: string; range_id: number; done: boolean }>(
      `SELECT holder, range_id, done FROM embedform.leases WHERE holder LIKE $1 AND NOT done`,
      [`%pid ${victim.child.pid} worker`],
    ))
    expect(killedHolder.length).toBe(1)
    const orphan = killedHolder[0]!.range_id

    const res = await apply.done
    expect(res.code, res.stderr + res.stdout).toBe(0)
    const survivor = await workers[1]!.done
    expect(survivor.code, survivor.stderr + survivor.stdout).toBe(0)
    expect(partial).toBeGreaterThan(0)

    // The dead worker's range was finished by another holder after its lease expired.
    const [range] = await db.sql<{ holder: string; done: boolean }>(`SELECT holder, done FROM embedform.leases WHERE range_id = $1`, [orphan])
    expect(range!.done).toBe(true)
    expect(range!.holder).not.toContain(`pid ${victim.child.pid} `)
    // Every range was worked by more than one process: the backfill really was shared.
    const holders = await db.sql<{ holder: string }>(`SELECT DISTINCT holder FROM embedform.leases`)
    expect(holders.length).toBeGreaterThanOrEqual(3)

    const writes = await db.sql<{ rows: number; writes: number }>('SELECT count(DISTINCT id)::int AS rows, count(*)::int AS writes FROM embed_writes')
    expect(writes[0]).toEqual({ rows: ROWS, writes: ROWS })
    const rows = await db.sql<StoredRow>(`SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id`)
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const encoder = await openEncoder(config.profiles.passage!)
    try {
      expect(await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))).toEqual([])
    } finally {
      await encoder.close()
    }
    expect(jsonLines(survivor.stdout).find((l) => l.type === 'result')).toMatchObject({ ok: true, generation: 2 })
  })
})
