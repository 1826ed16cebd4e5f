/**
 * Issue #4 on native PostgreSQL + pgvector, through the built CLI: a full migration of ~2,000
 * real passages with a concurrent writer and reader, a view over the vector column, saved-plan
 * staleness, detailed exit codes, rollback / roll-forward without re-embedding, and gc.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const ROWS = 2000
/** Passages the concurrent writer inserts (at most). */
const EXTRA = 1000
let db: TestDatabase
let dir: string

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
const useProfile = (profile: string) => writeProject(dir, { kind: 'pgvector', url: db.url }, profile)

function result(stdout: string): Record<string, any> {
  const last = jsonLines(stdout).find((l) => l.type === 'result')
  if (!last) throw new Error(`no result line in:\n${stdout}`)
  return last
}

async function statusOf(): Promise<Record<string, any>> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout).collections[0]
}

/** Every row of `docs` (through `column`) holds exactly the vector `profile` makes from its current text. */
async function expectEmbeddedWith(column: string, profile: string): Promise<void> {
  const rows = await db.sql<StoredRow>(`SELECT id, title, body, ${column}::text AS v FROM docs ORDER BY id`)
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(config.profiles[profile]!)
  try {
    expect(await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))).toEqual([])
  } finally {
    await encoder.close()
  }
}

const QUERY_VECTOR = `[${Array.from({ length: 100 }, (_, i) => Math.sin(i + 1).toFixed(4)).join(',')}]`

/** An application reading throughout: nearest-neighbour queries on the table and on a view. */
function startReader(url: string) {
  const client = new pg.Client({ connectionString: url })
  const stats = { queries: 0, errors: [] as string[] }
  let running = true
  let broken = false
  client.on('error', () => (broken = true))
  const done = (async () => {
    await client.connect()
    // Stops on a dead connection and yields every round, so a failed test can never leave it
    // spinning on instant rejections that starve the event loop.
    while (running && !broken && stats.errors.length < 100) {
      for (const from of ['docs', 'docs_search']) {
        try {
          await client.query(`SELECT id FROM ${from} ORDER BY embedding <=> $1::vector LIMIT 5`, [QUERY_VECTOR])
          stats.queries++
        } catch (err) {
          stats.errors.push((err as Error).message)
        }
      }
      await new Promise((r) => setImmediate(r))
    }
    await client.end()
  })()
  return { stats, stop: async () => ((running = false), done) }
}

/** An application writing throughout: new rows and edits of existing ones, no vectors. */
function startWriter(url: string) {
  const client = new pg.Client({ connectionString: url })
  const stats = { inserted: 0, updated: 0 }
  let running = true
  const done = (async () => {
    await client.connect()
    // Distinct real texts: near-duplicate rows would make nearest-neighbour sampling meaningless.
    const fresh = spamPassages(ROWS + EXTRA).slice(ROWS)
    for (let i = 0; running && i < EXTRA; i++) {
      const p = fresh[i]!
      await client.query('INSERT INTO docs (id, title, body) VALUES ($1, $2, $3)', [1_000_000 + i, p.title, p.body])
      stats.inserted++
      await client.query(`UPDATE docs SET body = body || ' ' || $2::text, updated_at = now() WHERE id = $1`, [1 + ((i * 37) % ROWS), p.title])
      stats.updated++
      await new Promise((r) => setTimeout(r, 15))
    }
    await client.end()
  })()
  return { stats, stop: async () => ((running = false), done) }
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-migrate-pg-'))
  useProfile('starter')
})

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('migration on native PostgreSQL through the CLI', () => {
  it('embeds a fresh table: plan --detailed-exitcode exits 3, apply, then 0', async () => {
    const before = await cli(['plan', '--detailed-exitcode', '--no-measure'])
    expect(before.code, before.stderr).toBe(3)
    expect(before.stdout).toContain('backfill')

    const apply = await cli(['apply', '--auto-approve', '--json'])
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
    expect(result(apply.stdout).collections[0].rowsWritten).toBe(ROWS)
    await expectEmbeddedWith('embedding', 'starter')

    const after = await cli(['plan', '--detailed-exitcode', '--no-measure'])
    expect(after.code, after.stderr).toBe(0)
    await db.sql('CREATE VIEW docs_search AS SELECT id, title, embedding FROM docs')
  })

  it('migrates to a new profile while the application writes and reads, and refuses the stale saved plan', async () => {
    useProfile('passage')
    const saved = await cli(['plan', '--no-measure', '-o', 'plan.json'])
    expect(saved.code, saved.stderr).toBe(0)
    const planText = readFileSync(join(dir, 'plan.json'), 'utf8')
    expect(planText.startsWith('{')).toBe(true)
    expect(JSON.parse(planText).collections[0].change).toBe('new-generation')

    const liveBefore = await db.sql<{ sum: string }>(`SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) AS sum FROM docs WHERE id <= ${ROWS}`)
    const reader = startReader(db.url)
    const writer = startWriter(db.url)
    const apply = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '100'], { cwd: dir, timeoutMs: 180_000 })
    let done: Awaited<typeof apply.done>
    try {
      // Writes keep coming through backfill, catch-up and the index build; verify runs the last catch-up.
      await apply.waitFor((line) => (/"type":"step-start".*\/verify"/.test(line) ? true : undefined))
      const liveDuring = await db.sql<{ sum: string }>(`SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) AS sum FROM docs WHERE id <= ${ROWS}`)
      // Edits change text, not the live vectors: the application's column is untouched before cutover.
      expect(liveDuring).toEqual(liveBefore)
    } finally {
      await writer.stop()
      done = await apply.done
      await reader.stop()
    }
    expect(done.code, done.stderr + done.stdout).toBe(0)
    expect(writer.stats.inserted).toBeGreaterThan(0)
    expect(reader.stats.errors).toEqual([])
    expect(reader.stats.queries).toBeGreaterThan(10)

    const total = await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM docs')
    expect(total[0]!.n).toBe(ROWS + writer.stats.inserted)
    await expectEmbeddedWith('embedding', 'passage')

    // The view was recreated against the new live column, not left reading the old one.
    const drift = await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM docs d JOIN docs_search v USING (id) WHERE v.embedding IS DISTINCT FROM d.embedding')
    expect(drift[0]!.n).toBe(0)

    const stale = await cli(['apply', 'plan.json'])
    expect(stale.code, stale.stderr).toBe(2)
    const settled = await cli(['plan', '--detailed-exitcode', '--no-measure'])
    expect(settled.code, settled.stderr).toBe(0)
  })

  it('rolls back and forward re-embedding exactly the rows changed meanwhile, then gc drops the retained generation', async () => {
    const migrated = await statusOf()
    const g1 = migrated.generations.find((g: any) => g.id === 1)
    expect(migrated.live.generation).toBe(2)
    expect(g1.status).toBe('retained')
    // The writer inserted and edited rows while g2 was being built and went live: g1 missed them.
    expect(g1.freshness.stale + g1.freshness.missing).toBeGreaterThan(0)

    const back = await cli(['rollback', '--auto-approve', '--json'])
    expect(back.code, back.stderr + back.stdout).toBe(0)
    const rolledBack = JSON.parse(back.stdout)
    expect(rolledBack).toMatchObject({ from: 2, to: 1, leftStale: 0 })
    expect(rolledBack.reembedded).toBe(rolledBack.stale + rolledBack.missing)
    expect(rolledBack.missing).toBeGreaterThan(0)
    const rolled = await statusOf()
    expect(rolled.live.generation).toBe(1)
    expect(rolled.matchesConfig).toBe(false)
    expect(rolled.generations.find((g: any) => g.id === 1).freshness).toMatchObject({ stale: 0, missing: 0 })
    // Verified in the data: every live vector is the starter profile's encoding of the row's current text.
    await expectEmbeddedWith('embedding', 'starter')

    // Edits while g1 is live leave g2 stale for those rows: rolling forward re-embeds exactly them.
    const edited = await db.sql<{ id: number }>(`UPDATE docs SET body = body || ' (edited after the rollback)' WHERE id % 97 = 0 RETURNING id`)
    const forward = await cli(['plan', '--json', '--no-measure'])
    expect(forward.code, forward.stderr).toBe(0)
    const plan = JSON.parse(forward.stdout)
    expect(plan.collections[0].change).toBe('cutover-retained')
    expect(plan.collections[0].steps.map((s: any) => s.kind)).not.toContain('backfill')

    const apply = await cli(['apply', '--auto-approve', '--json'])
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
    expect(result(apply.stdout).collections[0]).toMatchObject({ generation: 2, rowsWritten: edited.length })
    const restored = await statusOf()
    expect(restored).toMatchObject({ matchesConfig: true, live: { generation: 2 } })
    await expectEmbeddedWith('embedding', 'passage')

    const dry = await cli(['gc', '--keep', '0', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout).dropped.map((d: any) => d.generation)).toEqual([1])
    expect((await statusOf()).generations).toHaveLength(2)
    const gc = await cli(['gc', '--keep', '0', '--auto-approve'])
    expect(gc.code, gc.stderr).toBe(0)
    expect((await statusOf()).generations.map((g: any) => g.id)).toEqual([2])
  })
})
