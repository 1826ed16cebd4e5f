/**
 * The LanceDB behaviour the adapter relies on (its header lists them), checked against the pinned
 * @lancedb/lancedb directly, so an upgrade that changes one fails here first.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, Index, type Connection, type Table } from '@lancedb/lancedb'
import type * as Arrow from 'apache-arrow'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow
const D = 8
const vectorType = () => new arrow.FixedSizeList(D, new arrow.Field('item', new arrow.Float32(), true))
const unit = (i: number) => Array.from({ length: D }, (_, k) => (k === i % D ? 1 : 0.01 * k))

let dir: string
let db: Connection
let t: Table

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lancedb-facts-'))
  db = await connect(dir, { readConsistencyInterval: 0 })
  const schema = new arrow.Schema([new arrow.Field('id', new arrow.Int64(), false), new arrow.Field('body', new arrow.Utf8(), true), new arrow.Field('emb', vectorType(), true)])
  t = await db.createEmptyTable('docs', schema)
  await t.add(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, body: `row ${i + 1}`, emb: unit(i) })))
})
afterEach(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('LanceDB facts the adapter builds on', () => {
  it('adds all-null columns with field metadata, and an application add that omits them fills null', async () => {
    await t.addColumns([new arrow.Field('emb__g2', vectorType(), true, new Map([['embedform.generation', '2']]))])
    await t.add([{ id: 100, body: 'written by the application', emb: unit(3) }])
    expect(await t.countRows('`emb__g2` IS NULL')).toBe(41)
    expect((await t.schema()).fields.find((f) => f.name === 'emb__g2')!.metadata.get('embedform.generation')).toBe('2')
  })

  it('swaps two columns in one alterColumns commit; the index and metadata follow their column', async () => {
    await t.addColumns([new arrow.Field('emb__g2', vectorType(), true, new Map([['embedform.generation', '2']]))])
    const partial = new arrow.Schema([new arrow.Field('id', new arrow.Int64(), false), new arrow.Field('emb__g2', vectorType(), true)])
    const { makeArrowTable } = await import('@lancedb/lancedb')
    await t.mergeInsert('id').whenMatchedUpdateAll().execute(makeArrowTable(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, emb__g2: unit(i + 1) })), { schema: partial }))
    expect(await t.countRows('`emb__g2` IS NULL')).toBe(0)
    await t.createIndex('emb__g2', { config: Index.hnswSq({ distanceType: 'cosine', numPartitions: 1 }), name: 'g2_idx' })
    const before = await t.version()
    await t.alterColumns([
      { path: 'emb', rename: 'emb__g1' },
      { path: 'emb__g2', rename: 'emb' },
    ])
    expect(await t.version()).toBe(before + 1)
    const fields = (await t.schema()).fields
    expect(fields.find((f) => f.name === 'emb')!.metadata.get('embedform.generation')).toBe('2')
    expect((await t.listIndices()).find((i) => i.name === 'g2_idx')!.columns).toEqual(['emb'])
    const [hit] = await t.vectorSearch(unit(5)).column('emb').distanceType('cosine').limit(1).select(['id', '_distance']).toArray()
    expect(Number(hit.id)).toBe(5)
  })

  it('infers the vector column of a search only while the table has one', async () => {
    expect(Number((await t.search(unit(2)).limit(1).toArray())[0].id)).toBe(3)
    await t.addColumns([new arrow.Field('emb__g2', vectorType(), true)])
    await expect(t.search(unit(2)).limit(1).toArray()).rejects.toThrow(/More than one vector column/)
    expect(Number((await t.vectorSearch(unit(2)).column('emb').limit(1).toArray())[0].id)).toBe(3)
  })

  it('a merge_insert of some columns updates only those columns of matched rows and inserts nothing', async () => {
    await t.addColumns([new arrow.Field('h', new arrow.Utf8(), true)])
    const { makeArrowTable } = await import('@lancedb/lancedb')
    const partial = new arrow.Schema([new arrow.Field('id', new arrow.Int64(), false), new arrow.Field('h', new arrow.Utf8(), true)])
    await t.mergeInsert('id').whenMatchedUpdateAll().execute(makeArrowTable([{ id: 2, h: 'x' }, { id: 999, h: 'y' }], { schema: partial }))
    expect(await t.countRows()).toBe(40)
    const [row] = await t.query().where('id = 2').select(['body', 'h']).toArray()
    expect([row.body, row.h]).toEqual(['row 2', 'x'])
  })

  it('vector search skips null vectors; IVF_PQ refuses fewer than 256 rows while IVF_HNSW_SQ trains', async () => {
    await t.update({ where: 'id <= 10', values: { body: 'no vector' } })
    await t.add([{ id: 200, body: 'null vector', emb: null }])
    const hits = await t.vectorSearch(unit(0)).column('emb').limit(100).select(['id', '_distance']).toArray()
    expect(hits.map((h) => Number(h.id))).not.toContain(200)
    await expect(t.createIndex('emb', { config: Index.ivfPq({ numPartitions: 1, numSubVectors: 2 }) })).rejects.toThrow(/256/)
    await t.createIndex('emb', { config: Index.hnswSq({ numPartitions: 1 }) })
    expect((await t.listIndices())[0]!.indexType).toBe('IvfHnswSq')
  })

  it("a second connection sees the other's commits on every read with readConsistencyInterval 0", async () => {
    const other = await connect(dir, { readConsistencyInterval: 0 })
    const mine = await other.openTable('docs')
    await t.add([{ id: 300, body: 'from the first connection', emb: unit(1) }])
    expect(await mine.countRows()).toBe(41)
    other.close()
  })
})
