import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/types.js'
import type { PendingRow, StoreAdapter } from '../../src/store/adapter.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { testSpec } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

const DIMS = 16
const spec = (id: number) => testSpec(id, DIMS)

let db: TestDatabase
let adapter: StoreAdapter
const c: Collection = {
  name: 'docs',
  store: 'pg',
  profile: 'p2',
  target: 'docs',
  key: 'id',
  text: { columns: ['body'], separator: ' ' },
  vector: 'embedding',
}

/** The engine's side of a cutover: rows still pending are embedded with the target's own vectors. */
const embedWith = (id: number) => ({
  maxHeldRows: 1000,
  embed: async (rows: PendingRow[]) => rows.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g${id}|${r.text}`, DIMS) })),
})

async function embedGeneration(id: number): Promise<void> {
  await adapter.createGeneration(c, spec(id))
  for await (const page of adapter.pending(c, id, { batchSize: 500, phase: 'backfill' })) {
    await adapter.write(c, id, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g${id}|${r.text}`, DIMS) })))
  }
  await adapter.buildIndex(c, id)
}

beforeAll(async () => {
  db = await createTestDatabase()
  await createDocsTable(db, 'docs', 2000)
  adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
  await embedGeneration(1)
  await adapter.cutover(c, 1, embedWith(1))
  await db.sql(`CREATE VIEW public.docs_vectors AS SELECT id, embedding FROM public.docs`)
  await db.sql(`CREATE VIEW public.docs_vector_ids AS SELECT id FROM public.docs_vectors WHERE embedding IS NOT NULL`)
  await db.sql(`GRANT SELECT ON public.docs_vectors TO PUBLIC`)
  await embedGeneration(2)
})
afterAll(async () => {
  await adapter?.close()
  await db?.drop()
})

async function viewVector(id: number): Promise<string> {
  const [row] = await db.sql<{ v: string }>(`SELECT embedding::text AS v FROM public.docs_vectors WHERE id = $1`, [id])
  return row!.v
}

const literal = (v: Float32Array) => `[${Array.from(v).join(',')}]`

describe('pgvector cutover under load (native)', () => {
  it('serves kNN queries and vector reads without a single error across cutover and rollback', async () => {
    let stop = false
    const errors: unknown[] = []
    let queries = 0
    const reader = async (seed: number) => {
      const client = await db.pool.connect()
      try {
        for (let i = seed; !stop; i++) {
          const q = literal(fakeVector(`probe ${i}`, DIMS))
          try {
            await client.query({ name: 'knn', text: 'SELECT id FROM public.docs ORDER BY embedding <=> $1::vector LIMIT 5', values: [q] })
            await client.query({ name: 'read', text: 'SELECT id, embedding FROM public.docs WHERE id = $1', values: [(i % 2000) + 1] })
            await client.query('SELECT id, embedding FROM public.docs_vectors WHERE id = $1', [(i % 2000) + 1])
            queries += 3
          } catch (err) {
            errors.push(err)
          }
        }
      } finally {
        client.release()
      }
    }
    const readers = [reader(0), reader(1000), reader(2000)]
    await new Promise((r) => setTimeout(r, 200))
    await adapter.cutover(c, 2, embedWith(2))
    await new Promise((r) => setTimeout(r, 200))
    await adapter.cutover(c, 1, embedWith(1))
    await new Promise((r) => setTimeout(r, 200))
    await adapter.cutover(c, 2, embedWith(2))
    await new Promise((r) => setTimeout(r, 200))
    stop = true
    await Promise.all(readers)
    expect(errors.map((e) => String(e))).toEqual([])
    expect(queries).toBeGreaterThan(30)
    const s = await adapter.inspect(c)
    expect(s.live).toBe(2)
    expect(s.generations.map((g) => [g.id, g.status, g.physical])).toEqual([
      [1, 'retained', 'embedding__g1'],
      [2, 'live', 'embedding'],
    ])
  })

  it('recreates dependent views so they read the new generation, and the old one after rollback', async () => {
    const [row] = await db.sql<{ body: string }>(`SELECT body FROM public.docs WHERE id = 7`)
    const g1 = literal(fakeVector(`g1|${row!.body}`, DIMS))
    const g2 = literal(fakeVector(`g2|${row!.body}`, DIMS))
    const same = async (a: string, b: string) => (await db.sql<{ d: number }>(`SELECT ($1::vector <-> $2::vector) AS d`, [a, b]))[0]!.d < 1e-6

    await adapter.cutover(c, 2, embedWith(2))
    expect(await same(await viewVector(7), g2)).toBe(true)
    await adapter.cutover(c, 1, embedWith(1))
    expect(await same(await viewVector(7), g1)).toBe(true)
    await adapter.cutover(c, 2, embedWith(2))
    expect(await same(await viewVector(7), g2)).toBe(true)

    const [nested] = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM public.docs_vector_ids`)
    expect(nested!.n).toBe(2000)
    const [grant] = await db.sql<{ ok: boolean }>(`SELECT has_table_privilege('public', 'public.docs_vectors', 'SELECT') AS ok`)
    expect(grant!.ok).toBe(true)
  })
})
