/**
 * plan's measured estimate (issue #17): the pipeline probe reads sampled rows, encodes them and
 * writes through the real write path into a copy with the table's own indexes, and changes
 * nothing in the store — checked on native PostgreSQL and on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/types.js'
import type { PendingRow, StoreAdapter } from '../../src/store/adapter.js'
import { PgvectorAdapter } from '../../plugins/pgvector/adapter.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { PgliteDriver } from '../../plugins/pgvector/pglite-driver.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { testSpec } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

/**
 * bge-small's width and ~1 kB of text that does not compress (like real prose, unlike repeated
 * strings): a row plus its new vector is over PostgreSQL's 2 kB TOAST threshold, as in real tables.
 */
const DIMS = 384
const LONG_BODY = `'document ' || i || ' ' || (SELECT string_agg(md5(i::text || '-' || j), ' ') FROM generate_series(1, 30) j)`
const c: Collection = { name: 'docs', store: 'pg', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }

type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>

/** Everything a probe could leave behind: data, columns, indexes, reloptions, embedform state. */
async function fingerprintOf(sql: Sql): Promise<string> {
  const parts = await Promise.all([
    sql(`SELECT md5(string_agg(id::text || body || coalesce(embedding::text, ''), ',' ORDER BY id)) AS data FROM docs`),
    sql(`SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) AS cols FROM pg_attribute WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped`),
    sql(`SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) AS ix FROM pg_index WHERE indrelid = 'public.docs'::regclass`),
    sql(`SELECT reloptions::text AS opts FROM pg_class WHERE oid = 'public.docs'::regclass`),
    sql(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'embedform_probe%'`),
  ])
  return JSON.stringify(parts)
}

async function probeScenario(adapter: StoreAdapter, sql: Sql): Promise<void> {
  await adapter.createGeneration(c, testSpec(1, DIMS))
  for await (const page of adapter.pending(c, 1, { batchSize: 500, phase: 'backfill' })) {
    await adapter.write(c, 1, page.map((r: PendingRow) => ({ key: r.key, token: r.token, vector: fakeVector(`g1|${r.text}`, DIMS) })))
  }
  await adapter.buildIndex(c, 1)
  await adapter.cutover(c, 1, { maxHeldRows: 0 })
  const before = await fingerprintOf(sql)
  const seen: string[] = []
  const m = await adapter.measurePipeline!(c, {
    dimensions: 32,
    storage: 'vector',
    sampleRows: 800,
    encode: async (texts) => {
      seen.push(...texts)
      return texts.map((t) => fakeVector(t, 32))
    },
  })
  expect(m.rows).toBe(800)
  expect(seen).toHaveLength(800)
  expect(seen.every((t) => t.startsWith('document ') && t.length > 900)).toBe(true)
  expect(m.indexes.length).toBe(2)
  expect(m.writeMs).toBeGreaterThan(0)
  // The live HNSW index is on the copy too, and the writes still went heap-only.
  expect(m.heapOnlyShare).toBeGreaterThan(0.9)
  expect(await fingerprintOf(sql)).toBe(before)
}

describe('pipeline probe (native PostgreSQL)', () => {
  let db: TestDatabase
  let adapter: StoreAdapter
  beforeAll(async () => {
    db = await createTestDatabase()
    await db.sql(`CREATE TABLE public.docs (id bigint PRIMARY KEY, body text)`)
    await db.sql(`INSERT INTO public.docs (id, body) SELECT i, ${LONG_BODY} FROM generate_series(1, 3000) i`)
    adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
  })
  afterAll(async () => {
    await adapter?.close()
    await db?.drop()
  })

  it('measures read, encode and the real write path on sampled rows and changes nothing', async () => {
    await probeScenario(adapter, (text, params) => db.sql(text, params))
  })

  it('tells when rows are too small to be written heap-only (the plan then warns with the measured cost)', async () => {
    await createDocsTable(db, 'small_docs', 3000)
    await db.sql(`ALTER TABLE small_docs ADD COLUMN embedding vector(16)`)
    await db.sql(`UPDATE small_docs SET embedding = array_fill(0.25, ARRAY[16])::vector`)
    await db.sql(`CREATE INDEX ON small_docs USING hnsw (embedding vector_cosine_ops)`)
    const m = await adapter.measurePipeline!({ ...c, target: 'small_docs' }, { dimensions: 32, storage: 'vector', sampleRows: 500, encode: async (texts) => texts.map((t) => fakeVector(t, 32)) })
    expect(m.rows).toBe(500)
    expect(m.heapOnlyShare).toBeLessThan(0.5)
  })
})

describe('pipeline probe (PGlite)', () => {
  let driver: PgliteDriver
  let adapter: StoreAdapter
  beforeAll(async () => {
    driver = await PgliteDriver.open('memory://probe')
    await driver.query(`CREATE TABLE public.docs (id bigint PRIMARY KEY, body text)`)
    await driver.query(`INSERT INTO public.docs (id, body) SELECT i, ${LONG_BODY} FROM generate_series(1, 1000) i`)
    adapter = new PgvectorAdapter('pglite', driver, { ownsDriver: false })
  })
  afterAll(async () => {
    await adapter?.close()
    await driver?.close()
  })

  it('measures read, encode and the real write path on sampled rows and changes nothing', async () => {
    await probeScenario(adapter, async (text, params) => (await driver.query<Record<string, unknown>>(text, params)).rows)
  })
})
