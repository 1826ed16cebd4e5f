/**
 * Issue #9 on native PostgreSQL: a cutover that misses nothing, under realistic pressure.
 *
 * 1. An application transaction that inserts one row and edits another, open across the final
 *    catch-up and committed while the cutover waits for its lock: both rows are in the new live
 *    column with the vector of their final text (deterministic: the transaction is held by the test).
 * 2. The whole apply, through the built CLI, with application writers at hundreds of writes/s,
 *    a reader through a view with a prepared statement, and a transaction held across the swap:
 *    apply exits 0 and every row's live vector equals a fresh encode of its current text.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import type { Collection } from '../../src/core/types.js'
import { openEncoder } from '../../src/encoder/index.js'
import type { PendingRow, StoreAdapter } from '../../src/store/adapter.js'
import { changeRecord } from '../../plugins/pgvector/changes.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { resolveTable } from '../../plugins/pgvector/table-ref.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { testSpec } from '../conformance/generation-spec.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const DIMS = 16

describe('a cutover that misses nothing (native PostgreSQL)', () => {
  let db: TestDatabase
  let adapter: StoreAdapter
  const logs: string[] = []
  const c: Collection = { name: 'docs', store: 'pg', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }
  const embedWith = (id: number) => ({
    maxHeldRows: 1000,
    embed: async (rows: PendingRow[]) => rows.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g${id}|${r.text}`, DIMS) })),
  })

  async function embedGeneration(id: number): Promise<void> {
    await adapter.createGeneration(c, testSpec(id, DIMS))
    for await (const page of adapter.pending(c, id, { batchSize: 500, phase: 'backfill' })) {
      await adapter.write(c, id, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g${id}|${r.text}`, DIMS) })))
    }
    await adapter.buildIndex(c, id)
  }

  /** Rows whose live vector is not generation `id`'s vector of their current text. */
  async function wrongLiveRows(id: number): Promise<string[]> {
    const rows = await db.sql<{ id: string; body: string; v: string | null }>(`SELECT id::text, body, embedding::text AS v FROM docs ORDER BY id`)
    return rows
      .filter((r) => {
        if (r.v === null) return true
        const want = fakeVector(`g${id}|${r.body}`, DIMS)
        const got = JSON.parse(r.v) as number[]
        return got.some((x, i) => Math.abs(x - want[i]!) > 1e-5)
      })
      .map((r) => r.id)
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    await createDocsTable(db, 'docs', 2000)
    adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd(), log: (m) => logs.push(m) })
    await embedGeneration(1)
    await adapter.cutover(c, 1, embedWith(1))
  })
  afterAll(async () => {
    await adapter?.close()
    await db?.drop()
  })

  it('embeds what a transaction held open across the final catch-up committed while the swap waited', async () => {
    await embedGeneration(2)
    const app = new pg.Client({ connectionString: db.url })
    await app.connect()
    try {
      const [{ pid }] = (await app.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }]
      await app.query('BEGIN')
      await app.query(`INSERT INTO docs (id, body) VALUES (9001, 'inserted inside a transaction held across the cutover')`)
      await app.query(`UPDATE docs SET body = 'edited inside a transaction held across the cutover' WHERE id = 10`)
      // The final catch-up runs now and cannot see the uncommitted rows.
      const pending: PendingRow[] = []
      for await (const page of adapter.pending(c, 2, { batchSize: 100, phase: 'catchup' })) pending.push(...page)
      expect(pending).toEqual([])
      const started = performance.now()
      const cutover = adapter.cutover(c, 2, embedWith(2))
      // Longer than the 2 s lock_timeout: the wait is reported with the blocking session, then retried.
      await new Promise((r) => setTimeout(r, 2500))
      await app.query('COMMIT')
      const result = await cutover
      expect(performance.now() - started).toBeGreaterThanOrEqual(2400)
      expect(result).toMatchObject({ status: 'done', embeddedWhileHeld: 2, leftStale: 0 })
      expect(logs.join('\n')).toMatch(new RegExp(`waiting for a lock on public\\.docs \\(attempt 1\\): held by pid ${pid} \\(idle in transaction`))
    } finally {
      await app.end()
    }
    expect((await adapter.inspect(c)).live).toBe(2)
    expect(await wrongLiveRows(2)).toEqual([])
    expect(await adapter.freshness(c, 2)).toMatchObject({ rows: 2001, fresh: 2001, stale: 0, missing: 0, queued: 0 })
    // The retained generation knows exactly which of its rows are behind.
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: 2001, stale: 1, missing: 1 })
  })

  it('writes the backfill heap-only: no row re-enters the live HNSW index', async () => {
    await db.sql(`INSERT INTO docs (id, body) SELECT i, 'more text for row ' || i FROM generate_series(10001, 14000) i`)
    // The application's own settings: fillfactor kept while the generation builds (it is below
    // 80); vacuum_index_cleanup off meanwhile (no vacuum walks the HNSW graphs); the analyze
    // threshold raised by the table's rows (the backfill's writes bring no ANALYZE); all as they were after.
    await db.sql(`ALTER TABLE docs SET (fillfactor = 70, vacuum_index_cleanup = on, autovacuum_analyze_threshold = 500)`)
    await db.sql('ANALYZE docs')
    const reloptions = async () => ((await db.sql<{ o: string[] | null }>(`SELECT reloptions AS o FROM pg_class WHERE oid = 'public.docs'::regclass`))[0]!.o ?? []).sort()
    const tableRows = async () => Math.round((await db.sql<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'public.docs'::regclass`))[0]!.n)
    const rowsAtBuild = await tableRows()
    expect(rowsAtBuild).toBe(Number((await db.sql<{ n: string }>('SELECT count(*)::text AS n FROM docs'))[0]!.n))
    await adapter.createGeneration(c, testSpec(3, DIMS))
    expect(await reloptions()).toEqual([`autovacuum_analyze_threshold=${500 + rowsAtBuild}`, 'fillfactor=70', 'toast_tuple_target=128', 'vacuum_index_cleanup=off'])
    // An update that is not heap-only inserts the row's new version into every index of the
    // table, the live HNSW graph included: its size tells whether any row re-entered it.
    const indexSize = async () => (await db.sql<{ n: string }>(`SELECT pg_relation_size('public.docs_embedding_g1_idx')::text AS n`))[0]!.n
    const before = await indexSize()
    let written = 0
    for await (const page of adapter.pending(c, 3, { batchSize: 1000, phase: 'backfill' })) {
      await adapter.write(c, 3, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g3|${r.text}`, DIMS) })))
      written += page.length
    }
    expect(written).toBe(6001)
    expect(await indexSize()).toBe(before)
    // Put back as it was once the generation is gone.
    await adapter.dropGeneration(c, 3)
    expect(await reloptions()).toEqual(['autovacuum_analyze_threshold=500', 'fillfactor=70', 'vacuum_index_cleanup=on'])
    // Without settings of its own the table builds with fillfactor 80 and the server's threshold
    // raised, then gets the defaults back.
    await db.sql(`ALTER TABLE docs RESET (fillfactor, vacuum_index_cleanup, autovacuum_analyze_threshold)`)
    const [server] = await db.sql<{ n: number }>(`SELECT current_setting('autovacuum_analyze_threshold')::int AS n`)
    await adapter.createGeneration(c, testSpec(4, DIMS))
    expect(await reloptions()).toEqual([`autovacuum_analyze_threshold=${server!.n + (await tableRows())}`, 'fillfactor=80', 'toast_tuple_target=128', 'vacuum_index_cleanup=off'])
    await adapter.dropGeneration(c, 4)
    expect(await reloptions()).toEqual([])
  })

  it('a build begun by an embedform that did not save the analyze threshold leaves the table’s own when it ends', async () => {
    const threshold = async () => (await db.sql<{ o: string[] | null }>(`SELECT reloptions AS o FROM pg_class WHERE oid = 'public.docs'::regclass`))[0]!.o?.find((o) => o.startsWith('autovacuum_analyze_threshold='))
    await adapter.createGeneration(c, testSpec(5, DIMS))
    // As that version left the table and its record: the threshold untouched, no column for it.
    await db.sql(`ALTER TABLE docs SET (autovacuum_analyze_threshold = 700)`)
    await db.sql(`ALTER TABLE embedform.row_layout DROP COLUMN autovacuum_analyze_threshold`)
    // The first write of embedform's state brings the record up to date.
    await adapter.writeJournal(c, null)
    await adapter.dropGeneration(c, 5)
    expect(await threshold()).toBe('autovacuum_analyze_threshold=700')
    await db.sql(`ALTER TABLE docs RESET (autovacuum_analyze_threshold)`)
  })
})

describe('apply under hundreds of writes per second, through the CLI (native PostgreSQL)', () => {
  const ROWS = 1500
  let db: TestDatabase
  let dir: string
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 240_000 })

  beforeAll(async () => {
    db = await createTestDatabase()
    await seedDocs(db.pool, spamPassages(ROWS))
    dir = mkdtempSync(join(tmpdir(), 'embedform-freshness-'))
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
    const first = await cli(['apply', '--auto-approve', '--json'])
    expect(first.code, first.stderr + first.stdout).toBe(0)
    await db.sql('CREATE VIEW docs_search AS SELECT id, title, embedding FROM docs')
  })
  afterAll(async () => {
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Writers on separate connections: inserts, edits and deletes, as fast as the database takes them, each paced to `perSecond`. */
  function startWriters(count: number, perSecond: number) {
    const stats = { writes: 0, errors: [] as string[] }
    let running = true
    const texts = spamPassages(ROWS + 4000).slice(ROWS)
    const one = async (w: number) => {
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      try {
        for (let i = 0; running; i++) {
          const started = performance.now()
          const p = texts[(w * 1000 + i) % texts.length]!
          try {
            if (i % 3 === 0) await client.query('INSERT INTO docs (id, title, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body', [100_000 + w * 100_000 + i, p.title, p.body])
            else if (i % 3 === 1) await client.query('UPDATE docs SET body = $2 WHERE id = $1', [1 + ((w * 7919 + i * 31) % ROWS), p.body])
            else await client.query('DELETE FROM docs WHERE id = $1', [100_000 + w * 100_000 + i - 2])
            stats.writes++
          } catch (err) {
            stats.errors.push((err as Error).message)
          }
          const wait = 1000 / perSecond - (performance.now() - started)
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
      } finally {
        await client.end()
      }
    }
    const started = performance.now()
    const done = Promise.all(Array.from({ length: count }, (_, w) => one(w)))
    return { stats, stop: async () => ((running = false), await done, stats.writes / ((performance.now() - started) / 1000)) }
  }

  /** Prepared statements through a view and on the table, reading the vector column throughout. */
  function startReader() {
    const client = new pg.Client({ connectionString: db.url })
    const stats = { queries: 0, errors: [] as string[] }
    let running = true
    const done = (async () => {
      await client.connect()
      const q = `[${Array.from({ length: 100 }, (_, i) => Math.cos(i).toFixed(3)).join(',')}]`
      while (running && stats.errors.length < 50) {
        for (const [name, text] of [
          ['via_view', 'SELECT id, embedding FROM docs_search ORDER BY embedding <=> $1::vector LIMIT 5'],
          ['via_table', 'SELECT id FROM docs ORDER BY embedding <=> $1::vector LIMIT 5'],
        ] as const) {
          try {
            await client.query({ name, text, values: [q] })
            stats.queries++
          } catch (err) {
            stats.errors.push((err as Error).message)
          }
        }
      }
      await client.end()
    })()
    return { stats, stop: async () => ((running = false), done) }
  }

  it('completes with 0 stale and 0 missing live rows while writers run through the whole apply', async () => {
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')
    const writers = startWriters(4, 60)
    const reader = startReader()
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    const apply = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '200'], { cwd: dir, timeoutMs: 240_000 })
    let rate = 0
    try {
      // A transaction held open across the final catch-up and the swap, committed while the cutover waits.
      await apply.waitFor((line) => (/"type":"step-start".*\/cutover"/.test(line) ? true : undefined))
      await holder.query('BEGIN')
      await holder.query(`UPDATE docs SET body = body || ' (held across the swap)' WHERE id = 5`)
      await new Promise((r) => setTimeout(r, 1500))
      await holder.query('COMMIT')
      await apply.waitFor((line) => (/"type":"step-end".*\/cutover"/.test(line) ? true : undefined), 240_000)
    } finally {
      rate = await writers.stop()
      const done = await apply.done
      await reader.stop()
      await holder.end()
      expect(done.code, done.stderr + done.stdout).toBe(0)
      const result = jsonLines(done.stdout).find((l) => l.type === 'result')
      expect(result?.ok).toBe(true)
    }
    expect(rate).toBeGreaterThan(150)
    expect(writers.stats.errors).toEqual([])
    expect(reader.stats.errors.filter((e) => !/cached plan must not change result type/.test(e))).toEqual([])

    // Rows the writers changed after the swap are stale in the live generation, and queued for
    // sync by the change record; every other row holds the vector of its current text.
    const queue = changeRecord(resolveTable({ name: 'docs', store: 'main', profile: 'passage', target: 'docs', key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding' })).queue
    const queued = new Set((await db.sql<{ k: string }>(`SELECT k FROM ${queue} WHERE g = 2`)).map((r) => r.k))
    const rows = (await db.sql<StoredRow>(`SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id`)).filter((r) => !queued.has(String(r.id)))
    expect(rows.length).toBeGreaterThan(ROWS - 200)
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const encoder = await openEncoder(config.profiles['passage']!)
    try {
      const bad = await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))
      expect(bad).toEqual([])
    } finally {
      await encoder.close()
    }
    const status = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    const live = status.generations.find((g: { status: string }) => g.status === 'live')
    expect(live.freshness.stale + live.freshness.missing).toBeLessThanOrEqual(queued.size)
  }, 300_000)
})
