/**
 * sample() on native PostgreSQL: random rows with their current text, and a generation's stored
 * vectors (vector and halfvec) with what the freshness record says of each: fresh, stale after a
 * text edit, missing, and unverified for an adopted column embedform has no record of.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgDriver, PgvectorAdapter } from '../../plugins/pgvector/index.js'
import type { Collection } from '../../src/core/types.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { hnswCosine, testSpec } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
let adapter: PgvectorAdapter
const collection = (table: string): Collection => ({ name: table, store: 'pg', profile: 'p', target: table, key: 'id', text: { columns: ['body'], separator: '\n' }, vector: 'embedding' })

beforeAll(async () => {
  db = await createTestDatabase()
  adapter = new PgvectorAdapter('pgvector', new PgDriver(db.url))
})
afterAll(async () => {
  await adapter?.close()
  await db?.drop()
})

async function embedAll(c: Collection, g: number, dims: number): Promise<void> {
  for await (const page of adapter.pending(c, g, { batchSize: 50, phase: 'backfill' })) {
    await adapter.write(c, g, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(r.text, dims) })))
  }
}

describe('pgvector sample()', () => {
  it('draws distinct random rows with their current text', async () => {
    await createDocsTable(db, 'plain', 40)
    const c = collection('plain')
    const s = await adapter.sample(c, 10)
    expect(s).toHaveLength(10)
    expect(new Set(s.map((r) => String(r.key))).size).toBe(10)
    for (const r of s) expect(r.text).toBe(`document ${r.key} on subject ${Number(r.key) % 17}`)
    const draws = await Promise.all(Array.from({ length: 5 }, async () => (await adapter.sample(c, 10)).map((r) => String(r.key)).sort().join(',')))
    expect(new Set(draws).size).toBeGreaterThan(1)
    expect(await adapter.sample(c, 100)).toHaveLength(40)
  })

  it('returns stored vectors with fresh, stale and missing records (halfvec too)', async () => {
    await createDocsTable(db, 'tracked', 12)
    const c = collection('tracked')
    await adapter.createGeneration(c, testSpec(1, 8, { ...hnswCosine, storage: 'halfvec' }))
    await embedAll(c, 1, 8)
    await db.sql(`UPDATE tracked SET body = 'edited' WHERE id = 3`)
    await db.sql(`INSERT INTO tracked (id, body) VALUES (13, 'new row')`)
    const byKey = new Map((await adapter.sample(c, 100, 1)).map((r) => [String(r.key), r]))
    expect(byKey.size).toBe(13)
    expect(byKey.get('1')).toMatchObject({ record: 'fresh' })
    // halfvec keeps about three significant digits.
    Array.from(fakeVector('document 1 on subject 1', 8)).forEach((x, i) => expect(byKey.get('1')!.vector![i]).toBeCloseTo(x, 2))
    expect(byKey.get('3')).toMatchObject({ record: 'stale', text: 'edited' })
    expect(byKey.get('13')).toMatchObject({ record: 'missing', vector: null })
  })

  it('calls the vectors of a column embedform never wrote unverified', async () => {
    await createDocsTable(db, 'adopted', 5)
    await db.sql(`ALTER TABLE adopted ADD COLUMN embedding vector(4)`)
    await db.sql(`UPDATE adopted SET embedding = '[1,0,0,0]' WHERE id <= 4`)
    const s = await adapter.sample(collection('adopted'), 10, 1)
    expect(s.filter((r) => r.record === 'unverified').map((r) => Array.from(r.vector!))).toEqual(Array(4).fill([1, 0, 0, 0]))
    expect(s.find((r) => String(r.key) === '5')).toMatchObject({ record: 'missing', vector: null })
  })
})
