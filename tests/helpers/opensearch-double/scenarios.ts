/**
 * Adapter scenarios that talk to the cluster only over HTTP, so the same tests run against the
 * double and against a real server (OPENSEARCH_URL).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OsHttp } from '../../../plugins/opensearch/index.js'
import { EmbedformError } from '../../../src/core/errors.js'
import type { Collection, IndexSettings, Profile } from '../../../src/core/types.js'
import type { GenerationSpec, PendingRow, StoreAdapter } from '../../../src/store/adapter.js'
import { fakeVector } from '../../conformance/fake-vectors.js'
import { openSearchHarness, stamp } from './harness.js'

export const DIMS = 8
const index: IndexSettings = {
  metric: 'cosine',
  storage: 'vector',
  pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
  opensearch: { engine: 'faiss', m: 16, efConstruction: 100 },
}

export function spec(id: number): GenerationSpec {
  const profile = { name: `p${id}`, model: { source: `builtin:p${id}` }, dimensions: DIMS, normalize: true, index } as Profile
  return { id, profile: profile.name, fingerprint: `fp${id}`, model: profile.model.source, dimensions: DIMS, storage: 'vector', index, normalized: true, profileSnapshot: profile }
}
export const vec = (g: number, text: string) => fakeVector(`g${g}|${text}`, DIMS)
export const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ key: i + 1, text: `document ${i + 1} on subject ${i % 5}` }))

export async function collect(it: AsyncIterable<PendingRow[]>): Promise<PendingRow[][]> {
  const pages: PendingRow[][] = []
  for await (const p of it) pages.push(p)
  return pages
}

export async function rejection(p: Promise<unknown>): Promise<EmbedformError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(EmbedformError)
  return e as EmbedformError
}

export interface Ctx {
  h: Awaited<ReturnType<typeof openSearchHarness>>
  a: StoreAdapter
  c: Collection
  http: OsHttp
  backfill(g: number, batchSize?: number): Promise<void>
  /** Seeds n rows and makes generation g complete (not live). */
  ready(n: number, g?: number): Promise<void>
}

/** beforeEach/afterEach wiring shared by the double and the real-server runs. */
export function useContext(node: () => string): Ctx {
  const ctx = {} as Ctx
  beforeEach(async () => {
    ctx.h = await openSearchHarness(node())
    ctx.a = ctx.h.adapter
    ctx.c = ctx.h.collection
    ctx.http = ctx.h.http
    ctx.backfill = async (g, batchSize = 10) => {
      for await (const page of ctx.a.pending(ctx.c, g, { batchSize, phase: 'backfill' })) {
        await ctx.a.write(ctx.c, g, page.map((r) => ({ key: r.key, token: r.token, version: r.version, vector: vec(g, r.text) })))
      }
    }
    ctx.ready = async (n, g = 1) => {
      await ctx.h.seed(rows(n))
      await ctx.a.createGeneration(ctx.c, spec(g))
      await ctx.backfill(g)
      await ctx.a.buildIndex(ctx.c, g)
    }
  })
  afterEach(async () => {
    await ctx.h.cleanup()
  })
  return ctx
}

async function aliasTargets(http: OsHttp, alias: string): Promise<Record<string, { aliases: Record<string, { is_write_index?: boolean }> }>> {
  const r = await http.request({ method: 'GET', path: `/_alias/${alias}`, accept: [404] })
  return r.status === 404 ? {} : r.body
}

async function exists(http: OsHttp, index: string): Promise<boolean> {
  return (await http.request({ method: 'HEAD', path: `/${index}`, accept: [404] })).status === 200
}

async function getDoc(http: OsHttp, index: string, id: string) {
  return (await http.request({ method: 'GET', path: `/${index}/_doc/${id}`, accept: [404] })).body
}

export function openSearchScenarios(name: string, node: () => string): void {
  describe(`OpenSearch adapter scenarios: ${name}`, () => {
    const t = useContext(node)

    it('creates the generation index with the knn mapping, _meta and bulk-load settings, and restores them in buildIndex', async () => {
      const { h, a, c, http } = t
      await h.seed(rows(3))
      await a.createGeneration(c, spec(1))
      const g1 = `${c.target}__g1`
      const mapping = (await http.request({ method: 'GET', path: `/${g1}/_mapping` })).body[g1].mappings
      expect(mapping.properties.embedding).toMatchObject({ type: 'knn_vector', dimension: DIMS, space_type: 'innerproduct', method: { name: 'hnsw', engine: 'faiss', parameters: { m: 16, ef_construction: 100 } } })
      expect(mapping.properties.body).toEqual({ type: 'text' })
      expect(mapping._meta).toMatchObject({ embedform: { profile: 'p1', fingerprint: 'fp1', model: 'builtin:p1', dimensions: DIMS, generation: 1 } })
      const settings = async () => (await http.request({ method: 'GET', path: `/${g1}/_settings` })).body[g1].settings.index
      expect(await settings()).toMatchObject({ knn: 'true', refresh_interval: '-1', number_of_replicas: '0' })
      await t.backfill(1)
      await a.buildIndex(c, 1)
      expect(await settings()).toMatchObject({ refresh_interval: '1s', number_of_replicas: '0' })
    })

    it('reports a vector of the wrong length per document with the mapper_parsing_exception', async () => {
      const { h, a, c } = t
      await h.seed(rows(2))
      await a.createGeneration(c, spec(1))
      const err = await rejection(a.write(c, 1, [{ key: 1, vector: new Float32Array(DIMS + 1) }]))
      expect(err.code).toBe('E_BULK_FAILED')
      expect(err.message).toContain('1 (400 mapper_parsing_exception')
    })

    it('pages with a point-in-time over more than one page, unaffected by writes made meanwhile', async () => {
      const { h, a, c } = t
      await h.seed(rows(35))
      await a.createGeneration(c, spec(1))
      const pages: string[][] = []
      for await (const page of a.pending(c, 1, { batchSize: 10, phase: 'backfill' })) {
        pages.push(page.map((r) => String(r.key)))
        if (pages.length === 1) await h.insert({ key: 20.5, text: 'written while paging' })
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 5])
      expect(pages.flat()).toEqual(rows(35).map((r) => String(r.key)))
      const next = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))).flat()
      expect(next.map((r) => String(r.key))).toContain('20.5')
    })

    it('switches the alias while a concurrent reader never sees zero hits or an error', async () => {
      const { a, c, http } = t
      await t.ready(20)
      await a.cutover(c, 1)
      await a.createGeneration(c, spec(2))
      await t.backfill(2)
      await a.buildIndex(c, 2)
      let reads = 0
      let emptyOrFailed = 0
      let stop = false
      const reader = (async () => {
        while (!stop) {
          const r = await http.request({ method: 'POST', path: `/${c.target}/_search`, body: { size: 1, query: { match_all: {} } }, accept: [404] })
          reads++
          if (r.status !== 200 || r.body.hits.total.value === 0) emptyOrFailed++
          await new Promise((res) => setImmediate(res))
        }
      })()
      await a.cutover(c, 2)
      await a.cutover(c, 1)
      await a.cutover(c, 2)
      stop = true
      await reader
      expect(reads).toBeGreaterThan(3)
      expect(emptyOrFailed).toBe(0)
      expect(await aliasTargets(http, c.target)).toEqual({ [`${c.target}__g2`]: { aliases: { [c.target]: { is_write_index: true } } } })
    })

    it('applies all _aliases actions or none', async () => {
      const { a, c, http } = t
      await t.ready(3)
      await a.cutover(c, 1)
      const err = await rejection(
        http.request({ method: 'POST', path: '/_aliases', body: { actions: [{ remove: { index: `${c.target}__g1`, alias: c.target } }, { add: { index: `${c.target}_no_such_index`, alias: c.target } }] } }),
      )
      expect(err.message).toContain('index_not_found_exception')
      expect((await a.inspect(c)).live).toBe(1)
    })

    it('keeps the newer document when a stale copy arrives later (external_gte)', async () => {
      const { h, a, c, http } = t
      await t.ready(4)
      await h.updateText(2, 'newer text')
      const [fresh] = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).flat()
      expect(fresh).toMatchObject({ key: '2', text: 'newer text' })
      await a.write(c, 1, [{ key: '2', token: fresh!.token, version: fresh!.version, vector: vec(1, 'newer text') }])
      // A slow writer delivers the vector of the old text with the old version: refused, silently correct.
      await a.write(c, 1, [{ key: '2', version: fresh!.version! - 1000, vector: vec(1, 'stale') }])
      const doc = await getDoc(http, `${c.target}__g1`, '2')
      expect(doc._version).toBe(fresh!.version)
      const stored = doc._source.embedding as number[]
      Array.from(vec(1, 'newer text')).forEach((x, i) => expect(stored[i]).toBeCloseTo(x, 6))
    })

    it('catch-up deletes documents removed from the live index (id-set diff)', async () => {
      const { h, a, c, http } = t
      await t.ready(6)
      await h.remove(4)
      expect(await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).toEqual([])
      expect(await a.verify(c, 1)).toMatchObject({ total: 5, populated: 5, ok: true })
      expect((await getDoc(http, `${c.target}__g1`, '4')).found).toBe(false)
    })

    it('adopts a concrete index with vectors: clone, alias + remove_index in one request, rollback to the clone, gc', async () => {
      const { h, a, c, http } = t
      const seeded = rows(10)
      await h.seedAdopted!(seeded.map((r) => ({ ...r, vector: vec(1, r.text) })), DIMS)
      expect(await a.inspect(c)).toMatchObject({ live: 1, adoptable: c.target })
      const steps = await a.describeAdoption!(c)
      expect(steps.join('\n')).toContain(`_clone ${c.target} -> ${c.target}__g1`)
      expect(steps.join('\n')).toContain(`remove_index ${c.target}`)
      expect(steps.find((l) => l.startsWith('rollback:'))).toContain(`${c.target}__g1`)
      await a.createGeneration(c, spec(2))
      await t.backfill(2)
      await a.buildIndex(c, 2)
      expect((await a.verify(c, 2)).ok).toBe(true)
      await a.cutover(c, 2)
      const after = await a.inspect(c)
      expect(after.adoptable).toBeUndefined()
      expect(after.generations.map((g) => [g.id, g.status, g.physical])).toEqual([
        [1, 'retained', `${c.target}__g1`],
        [2, 'live', `${c.target}__g2`],
      ])
      expect(await a.describeAdoption!(c)).toEqual([])
      expect(Object.keys(await aliasTargets(http, c.target))).toEqual([`${c.target}__g2`])
      // The application keeps writing through the name it always used.
      await h.insert({ key: 11, text: 'after the cutover' })
      expect((await getDoc(http, `${c.target}__g2`, '11')).found).toBe(true)

      await a.cutover(c, 1)
      expect((await a.inspect(c)).live).toBe(1)
      expect((await a.search(c, 1, { vector: vec(1, seeded[4]!.text), k: 1 }))[0]!.key).toBe('5')
      await h.insert({ key: 12, text: 'after the rollback' })
      expect((await getDoc(http, `${c.target}__g1`, '12')).found).toBe(true)

      await a.cutover(c, 2)
      await a.dropGeneration(c, 1)
      expect(await exists(http, `${c.target}__g1`)).toBe(false)
      expect((await a.inspect(c)).generations.map((g) => g.id)).toEqual([2])
    })

    it('refuses to replace a concrete index that changed after the last catch-up, and unblocks it', async () => {
      const { h, a, c } = t
      await t.ready(5)
      await h.updateText(3, 'changed after catch-up')
      const err = await rejection(a.cutover(c, 1))
      expect(err.code).toBe('E_CUTOVER_STALE')
      expect(err.message).toContain('document 3 changed after the last catch-up')
      await h.insert({ key: 6, text: 'writes work again' })
      for await (const page of a.pending(c, 1, { batchSize: 10, phase: 'catchup' })) {
        await a.write(c, 1, page.map((r) => ({ key: r.key, token: r.token, version: r.version, vector: vec(1, r.text) })))
      }
      await a.cutover(c, 1)
      expect((await a.inspect(c)).live).toBe(1)
    })

    it('hybrid search brings a lexical match up next to the nearest neighbour', async () => {
      const { h, a, c } = t
      await h.seed([{ key: 99, text: 'zebra crossing' }])
      await t.ready(10)
      const query = { vector: vec(1, rows(10)[6]!.text), k: 3, text: 'zebra' }
      const knnOnly = await a.search(c, 1, query)
      expect(knnOnly[0]!.key).toBe('7')
      expect(knnOnly.map((x) => x.key)).not.toContain('99')
      const hits = await a.search(c, 1, { ...query, hybrid: true })
      expect(hits.map((x) => x.key).slice(0, 2).sort()).toEqual(['7', '99'])
    })

    it('takes over a lock whose holder stopped heart-beating', async () => {
      const { h, a, c, http } = t
      await h.seed(rows(1))
      const crashed = await a.lock(c, 'crashed run')
      const path = `/.embedform/_doc/lock:${c.target}`
      const lock = await getDoc(http, '.embedform', `lock:${c.target}`)
      await http.request({ method: 'PUT', path, body: { ...lock._source, heartbeat: stamp() - 10 * 60_000 }, query: { refresh: 'true' } })
      expect((await a.inspect(c)).lock).toBeNull()
      const mine = await a.lock(c, 'new run')
      expect((await a.inspect(c)).lock).toMatchObject({ holder: 'new run' })
      // The crashed run's release must not free the lock it lost.
      await crashed()
      expect((await a.inspect(c)).lock).toMatchObject({ holder: 'new run' })
      await mine()
      expect((await a.inspect(c)).lock).toBeNull()
    })
  })
}
