/**
 * zero_vectors: skip on native PostgreSQL, beyond the conformance kit: the backfill leaves
 * skipped rows out also across pages made only of them, and the estimated freshness of tables
 * too big to scan (rows and populated from statistics) counts skipped rows apart from missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/types.js'
import type { StoreAdapter } from '../../src/store/adapter.js'
import { testSpec } from '../../src/testing/spec.js'
import type { Queryable } from '../../plugins/pgvector/driver.js'
import { estimatedFreshness } from '../../plugins/pgvector/freshness.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { resolveTable } from '../../plugins/pgvector/table-ref.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { hnswCosine } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

const DIMS = 16
const ROWS = 300
/** Every tenth row encodes to zeros. */
const skipped = (key: number) => key % 10 === 0

describe('skipped rows on native PostgreSQL', () => {
  let db: TestDatabase
  let adapter: StoreAdapter
  const c: Collection = { name: 'docs', store: 'pg', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }

  beforeAll(async () => {
    db = await createTestDatabase()
    await createDocsTable(db, 'docs', ROWS)
    adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
    await adapter.createGeneration(c, testSpec(1, DIMS, hnswCosine, 'skip'))
    // Small pages, so that pages made only of skipped rows are read too.
    for await (const page of adapter.pending(c, 1, { batchSize: 7, phase: 'backfill' })) {
      await adapter.write(c, 1, page.map((r) => ({ key: r.key, token: r.token, vector: skipped(Number(r.key)) ? null : fakeVector(`g1|${r.text}`, DIMS) })))
    }
  })
  afterAll(async () => {
    await adapter?.close()
    await db?.drop()
  })

  it('stores NULL for skipped rows and a vector for the others, and the backfill has nothing left', async () => {
    const nulls = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM docs WHERE embedding__g1 IS NULL`)
    expect(nulls[0]!.n).toBe(ROWS / 10)
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: ROWS, fresh: ROWS - ROWS / 10, missing: 0, skipped: ROWS / 10, queued: 0, exact: true })
    const left: unknown[] = []
    for await (const page of adapter.pending(c, 1, { batchSize: 7, phase: 'backfill' })) left.push(...page)
    expect(left).toEqual([])
  })

  it('the cutover writes NULL for a row embedded while writes are held that encodes to zeros, and switches', async () => {
    await db.sql(`INSERT INTO docs (id, body) VALUES (1000, '')`)
    expect(await adapter.freshness(c, 1)).toMatchObject({ missing: 1, queued: 1 })
    const embed = async (rows: { key: string | number; text: string; token?: string }[]) =>
      rows.map((r) => ({ key: r.key, ...(r.token === undefined ? {} : { token: r.token }), vector: r.text === '' ? null : fakeVector(`g1|${r.text}`, DIMS) }))
    expect(await adapter.cutover(c, 1, { maxHeldRows: 10, embed })).toMatchObject({ status: 'done', embeddedWhileHeld: 1, leftStale: 0 })
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: ROWS + 1, missing: 0, skipped: ROWS / 10 + 1, queued: 0 })
    expect(await db.sql(`SELECT id FROM docs WHERE id = 1000 AND embedding IS NULL`)).toHaveLength(1)
  })

  it('estimates skipped rows apart from missing ones on a table too big to scan', async () => {
    const q = { query: (sql: string, params?: unknown[]) => db.pool.query(sql, params) } as unknown as Queryable
    const ref = resolveTable(c)
    // After the cutover above: generation 1 is live in `embedding`, with one more skipped row.
    const skippedRows = ROWS / 10 + 1
    const stats = { rows: ROWS + 1, populated: ROWS + 1 - skippedRows }
    expect(await estimatedFreshness(q, ref, 1, 'embedding', 'bigint', stats, true)).toMatchObject({ rows: ROWS + 1, missing: 0, skipped: skippedRows, unverified: 0, exact: false })
    // A skipped row given new text is queued: missing until catch-up embeds it.
    await db.sql(`UPDATE docs SET body = 'now it has words' WHERE id = 10`)
    expect(await estimatedFreshness(q, ref, 1, 'embedding', 'bigint', stats, true)).toMatchObject({ missing: 1, skipped: skippedRows - 1, queued: 1 })
    // Under keep nothing is read as skipped.
    const keep = await estimatedFreshness(q, ref, 1, 'embedding', 'bigint', stats, false)
    expect(keep.missing).toBe(skippedRows)
    expect(keep.skipped).toBe(0)
  })
})
