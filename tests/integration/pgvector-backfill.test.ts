import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/types.js'
import type { StoreAdapter } from '../../src/store/adapter.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { hnswCosine, testSpec } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

const DIMS = 16
const ROWS = 3000
let db: TestDatabase
let adapter: StoreAdapter

const collection = (target: string): Collection => ({
  name: target,
  store: 'pg',
  profile: 'p',
  target,
  key: 'id',
  text: { columns: ['body'], separator: ' ' },
  vector: 'embedding',
})

async function drain(c: Collection, id: number, phase: 'backfill' | 'catchup', onPage?: () => Promise<void>): Promise<number> {
  let n = 0
  for await (const page of adapter.pending(c, id, { batchSize: 200, phase })) {
    await onPage?.()
    await adapter.write(c, id, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(r.text, DIMS) })))
    n += page.length
  }
  return n
}

beforeAll(async () => {
  db = await createTestDatabase()
  adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
})
afterAll(async () => {
  await adapter?.close()
  await db?.drop()
})

describe('pgvector backfill with a concurrent writer (native)', () => {
  it('catches up every row inserted or updated while the backfill ran', async () => {
    await createDocsTable(db, 'busy', ROWS)
    const c = collection('busy')
    await adapter.createGeneration(c, testSpec(1, DIMS))
    let stop = false
    let writes = 0
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await db.sql(`INSERT INTO public.busy (id, body) VALUES ($1, $2)`, [ROWS + 1 + i, `late row ${i}`])
        await db.sql(`UPDATE public.busy SET body = body || ' (edited)' WHERE id = $1`, [((i * 37) % ROWS) + 1])
        writes++
      }
    })()
    await drain(c, 1, 'backfill', () => new Promise((r) => setTimeout(r, 5)))
    stop = true
    await writer
    expect(writes).toBeGreaterThan(0)
    while ((await drain(c, 1, 'catchup')) > 0);

    const [check] = await db.sql<{ total: number; missing: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE embedding__g1 IS NULL)::int AS missing FROM public.busy`,
    )
    expect(check!.total).toBe(ROWS + writes)
    expect(check!.missing).toBe(0)
    // Every stored vector belongs to the row's current text, edits included.
    const edited = await db.sql<{ body: string; v: string }>(
      `SELECT body, embedding__g1::text AS v FROM public.busy WHERE body LIKE '%(edited)' ORDER BY id LIMIT 20`,
    )
    expect(edited.length).toBeGreaterThan(0)
    for (const row of edited) {
      const want = Array.from(fakeVector(row.body, DIMS))
      const got = JSON.parse(row.v) as number[]
      got.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 5))
    }
  })

  it('stores halfvec generations and searches them through an IVFFlat l2 index', async () => {
    await createDocsTable(db, 'halves', 400)
    const c = collection('halves')
    const settings = { ...hnswCosine, metric: 'l2' as const, storage: 'halfvec' as const, pgvector: { type: 'ivfflat' as const, m: 16, efConstruction: 64 } }
    await adapter.createGeneration(c, testSpec(1, DIMS, settings))
    await drain(c, 1, 'backfill')
    await adapter.buildIndex(c, 1)
    const [index] = await db.sql<{ def: string }>(`SELECT pg_get_indexdef('public.halves_embedding_g1_idx'::regclass) AS def`)
    expect(index!.def).toMatch(/USING ivfflat \(embedding__g1 halfvec_l2_ops\) WITH \(lists='1'\)/)
    const [row] = await db.sql<{ body: string }>(`SELECT body FROM public.halves WHERE id = 42`)
    const hits = await adapter.search(c, 1, { vector: fakeVector(row!.body, DIMS), k: 3 })
    expect(String(hits[0]!.key)).toBe('42')
    // l2 similarity is the negated distance; halfvec rounding keeps it near zero, not exactly zero.
    expect(hits[0]!.score).toBeLessThanOrEqual(0)
    expect(hits[0]!.score).toBeGreaterThan(-0.01)
    expect(await adapter.verify(c, 1)).toMatchObject({ ok: true, indexValid: true, wrongDimensions: 0 })
  })

  it('rebuilds an index with new settings without re-embedding, and drops it', async () => {
    await createDocsTable(db, 'tuned', 300)
    const c = collection('tuned')
    await adapter.createGeneration(c, testSpec(1, DIMS))
    await drain(c, 1, 'backfill')
    await adapter.buildIndex(c, 1)
    const before = (await adapter.inspect(c)).generations[0]!
    const retuned = { ...hnswCosine, pgvector: { type: 'ivfflat' as const, m: 16, efConstruction: 64, lists: 3 } }
    await adapter.buildIndex(c, 1, undefined, retuned)
    const after = (await adapter.inspect(c)).generations[0]!
    expect(after.indexSettings).toEqual(retuned)
    expect(after.index).toMatchObject({ name: 'tuned_embedding_g1_idx', method: 'ivfflat', valid: true })
    expect(after.index!.settingsHash).not.toBe(before.index!.settingsHash)
    expect(after.populated).toBe(300)
    const [def] = await db.sql<{ d: string }>(`SELECT pg_get_indexdef('public.tuned_embedding_g1_idx'::regclass) AS d`)
    expect(def!.d).toContain(`WITH (lists='3')`)

    await adapter.dropIndex(c, 1)
    expect((await adapter.inspect(c)).generations[0]!.index).toBeNull()
    expect((await adapter.verify(c, 1)).indexValid).toBe(false)
  })

  it('detects an INVALID index left by a failed CONCURRENTLY build and rebuilds it', async () => {
    await createDocsTable(db, 'crashy', 500)
    const c = collection('crashy')
    await adapter.createGeneration(c, testSpec(1, DIMS))
    await drain(c, 1, 'backfill')
    // Same name the adapter uses; a UNIQUE build over duplicate values fails and leaves it INVALID.
    await db.sql(`UPDATE public.crashy SET embedding__g1 = '[${Array(DIMS).fill(1).join(',')}]' WHERE id <= 2`)
    const name = 'crashy_embedding_g1_idx'
    await expect(db.sql(`CREATE UNIQUE INDEX CONCURRENTLY ${name} ON public.crashy ((embedding__g1::text))`)).rejects.toThrow(/could not create unique index/)
    await db.sql(`UPDATE public.crashy SET embedding__g1 = NULL WHERE id <= 2`)
    await drain(c, 1, 'catchup')

    const before = await adapter.inspect(c)
    expect(before.generations[0]!.index).toMatchObject({ name, valid: false })
    expect((await adapter.verify(c, 1)).indexValid).toBe(false)

    const progress: [number, number][] = []
    await adapter.buildIndex(c, 1, (done, total) => progress.push([done, total]))
    const after = await adapter.inspect(c)
    expect(after.generations[0]!.index).toMatchObject({ name, valid: true, method: 'hnsw' })
    expect(after.version).not.toBe(before.version)
    expect(progress.at(-1)).toEqual([500, 500])
    const report = await adapter.verify(c, 1)
    expect(report).toMatchObject({ ok: true, indexValid: true, missing: 0 })
  })
})
