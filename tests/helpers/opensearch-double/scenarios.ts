/**
 * Adapter scenarios that talk to the cluster only over HTTP, so the same tests run against the
 * double and against a real server (OPENSEARCH_URL).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OsHttp } from '../../../plugins/opensearch/index.js'
import { EmbedformError } from '../../../src/core/errors.js'
import type { Collection, IndexSettings, Profile } from '../../../src/core/types.js'
import type { CutoverOptions, GenerationSpec, PendingRow } from '../../../src/store/adapter.js'
import { OpenSearchAdapter, OsHttp as Http } from '../../../plugins/opensearch/index.js'
import type { Encoder } from '../../../src/encoder/types.js'
import { leasedBackfill } from '../../../src/workers/backfill.js'
import { flatSettings } from '../../../plugins/opensearch/carry.js'
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
/** The engine's side of a cutover: embeds what is still pending with generation g's vectors. */
export const embed = (g: number, maxHeldRows = 100): CutoverOptions => ({
  maxHeldRows,
  embed: async (pending) => pending.map((r) => ({ key: r.key, vector: vec(g, r.text), ...(r.token === undefined ? {} : { token: r.token }) })),
})
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
  a: OpenSearchAdapter
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
      // The live index keeps the default refresh interval: so does the generation once loaded.
      expect(await settings()).toMatchObject({ number_of_replicas: '0' })
      expect((await settings()).refresh_interval).toBeUndefined()
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
      await a.cutover(c, 1, embed(1))
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
      await a.cutover(c, 2, embed(2))
      await a.cutover(c, 1, embed(1))
      await a.cutover(c, 2, embed(2))
      stop = true
      await reader
      expect(reads).toBeGreaterThan(3)
      expect(emptyOrFailed).toBe(0)
      expect(await aliasTargets(http, c.target)).toEqual({ [`${c.target}__g2`]: { aliases: { [c.target]: { is_write_index: true } } } })
    })

    it('applies all _aliases actions or none', async () => {
      const { a, c, http } = t
      await t.ready(3)
      await a.cutover(c, 1, embed(1))
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
      expect((await rejection(a.cutover(c, 2, embed(2)))).code).toBe('E_ADOPT_FIRST')
      expect((await a.adopt(c)).heldMs).toBeGreaterThanOrEqual(0)
      expect(await a.describeAdoption!(c)).toEqual([])
      expect(await a.cutover(c, 2, embed(2))).toMatchObject({ status: 'done', leftStale: 0 })
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

      await a.cutover(c, 1, embed(1))
      expect((await a.inspect(c)).live).toBe(1)
      expect((await a.search(c, 1, { vector: vec(1, seeded[4]!.text), k: 1 }))[0]!.key).toBe('5')
      await h.insert({ key: 12, text: 'after the rollback' })
      expect((await getDoc(http, `${c.target}__g1`, '12')).found).toBe(true)

      await a.cutover(c, 2, embed(2))
      await a.dropGeneration(c, 1)
      expect(await exists(http, `${c.target}__g1`)).toBe(false)
      expect((await a.inspect(c)).generations.map((g) => g.id)).toEqual([2])
    })

    it('catch-up refreshes first: a write the live index has not made searchable (refresh_interval -1) is caught up', async () => {
      const { h, a, c, http } = t
      await t.ready(5)
      await http.request({ method: 'PUT', path: `/${c.target}/_settings`, body: { index: { refresh_interval: '-1' } } })
      await http.request({ method: 'PUT', path: `/${c.target}/_doc/6`, body: { id: 6, body: 'written, not refreshed', updated_at: stamp() } })
      expect((await http.request({ method: 'POST', path: `/${c.target}/_count`, body: {} })).body.count).toBe(5)
      const found = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).flat()
      expect(found.map((r) => [String(r.key), r.text])).toEqual([['6', 'written, not refreshed']])
    })

    it('cutover loses no write: one made just before is embedded under the hold, one made during it is refused with cluster_block_exception and its retry lands in the new live index', async () => {
      const { h, a, c, http } = t
      await t.ready(5)
      await http.request({ method: 'PUT', path: `/${c.target}/_settings`, body: { index: { refresh_interval: '-1' } } })
      await http.request({ method: 'PUT', path: `/${c.target}/_doc/6`, body: { id: 6, body: 'just before the cutover', updated_at: stamp() } })
      let refused: Record<string, any> | undefined
      const result = await a.cutover(c, 1, {
        maxHeldRows: 100,
        embed: async (pending) => {
          const during = await http.request({ method: 'PUT', path: `/${c.target}/_doc/7`, body: { id: 7, body: 'during the cutover', updated_at: stamp() }, accept: [403] })
          refused = during.body
          return pending.map((r) => ({ key: r.key, vector: vec(1, r.text), ...(r.token ? { token: r.token } : {}) }))
        },
      })
      expect(result).toMatchObject({ status: 'done', embeddedWhileHeld: 1, leftStale: 0 })
      if (result.status === 'done') expect(result.heldMs).toBeGreaterThanOrEqual(result.swapMs)
      expect(refused?.error?.type).toBe('cluster_block_exception')
      await http.request({ method: 'PUT', path: `/${c.target}/_doc/7`, body: { id: 7, body: 'during the cutover', updated_at: stamp() }, query: { refresh: 'true' } })
      const g1 = `${c.target}__g1`
      expect((await getDoc(http, g1, '7')).found).toBe(true)
      const six = await getDoc(http, g1, '6')
      Array.from(vec(1, 'just before the cutover')).forEach((x, i) => expect(six._source.embedding[i]).toBeCloseTo(x, 6))
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 7, fresh: 6, missing: 1 })
    })

    it('a catch-up pass starts where the previous one began, and a row a caller read but never wrote is still embedded by the cutover', async () => {
      const { h, a, c } = t
      await t.ready(6)
      const pass = async (write: (key: string) => boolean) => {
        const read = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).flat()
        const kept = read.filter((r) => write(String(r.key)))
        if (kept.length > 0) await a.write(c, 1, kept.map((r) => ({ key: r.key, token: r.token, version: r.version, vector: vec(1, r.text) })))
        return read.map((r) => String(r.key)).sort()
      }
      await h.updateText(2, 'two, edited and dropped by the caller')
      expect(await pass(() => false)).toEqual(['2'])
      await h.updateText(4, 'four, edited')
      expect(await pass((k) => k !== '2')).toEqual(['2', '4'])
      await h.updateText(5, 'five, edited')
      // Starts at the previous pass: the dropped row is older than that.
      expect(await pass(() => true)).toEqual(['5'])
      expect(await a.freshness(c, 1)).toMatchObject({ stale: 1, queued: 1 })
      const result = await a.cutover(c, 1, embed(1))
      expect(result).toMatchObject({ status: 'done', embeddedWhileHeld: 1, leftStale: 0 })
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 6, fresh: 6, stale: 0 })
    })

    it('refuses a zero vector under cosinesimil before sending it, and records one under innerproduct for verify', async () => {
      const { h, a, c } = t
      await h.seed(rows(3))
      const cosine = { ...spec(1), normalized: false }
      await a.createGeneration(c, cosine)
      const zero = new Float32Array(DIMS)
      const [page] = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
      const err = await rejection(a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: r.key === '2' ? zero : vec(1, r.text) }))))
      expect(err.code).toBe('E_ZERO_VECTOR')
      expect(err.message).toContain('(2)')
      await a.createGeneration(c, spec(2))
      const [again] = await collect(a.pending(c, 2, { batchSize: 10, phase: 'backfill' }))
      await a.write(c, 2, again!.map((r) => ({ key: r.key, token: r.token, vector: r.key === '2' ? zero : vec(2, r.text) })))
      await a.buildIndex(c, 2)
      expect(await a.verify(c, 2)).toMatchObject({ zeroVectors: 1, missing: 0 })
    })

    it('writes a skipped row (zero_vectors: skip) under cosinesimil without its knn_vector field, while the cluster still refuses a zero vector', async () => {
      const { h, a, c, http } = t
      await h.seed(rows(3))
      const base = spec(1)
      await a.createGeneration(c, { ...base, normalized: false, profileSnapshot: { ...base.profileSnapshot, zeroVectors: 'skip' } })
      const [page] = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
      await a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: r.key === '2' ? null : vec(1, r.text) })))
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 3, fresh: 2, missing: 0, skipped: 1 })
      const doc = await getDoc(http, `${c.target}__g1`, '2')
      expect(doc._source[c.vector]).toBeUndefined()
      expect(doc._source.embedform).toMatchObject({ skipped: true })
      // The cluster's own rules, whatever the adapter does: a knn_vector field is optional, a zero vector under cosinesimil is not.
      const without = await http.request({ method: 'PUT', path: `/${c.target}__g1/_doc/extra`, body: { title: 'no vector at all' } })
      expect(without.status).toBe(201)
      const zero = await http.request({ method: 'PUT', path: `/${c.target}__g1/_doc/zero`, body: { [c.vector]: Array.from({ length: DIMS }, () => 0) }, accept: [400] })
      expect(zero.status).toBe(400)
      expect(zero.body.error?.type).toBe('mapper_parsing_exception')
    })

    it('lifts a write block that a cutover killed during its hold left on the live index, when the next run takes the lock', async () => {
      const { h, a, c, http } = t
      await t.ready(3)
      // What a process killed between _block/write and the swap leaves: the record, then the block.
      await http.request({ method: 'PUT', path: `/.embedform/_doc/hold:${c.target}`, body: { kind: 'hold', collection: c.target, hold: { index: c.target, since: new Date().toISOString(), pid: 1, host: 'gone' } }, query: { refresh: 'true' } })
      await http.request({ method: 'PUT', path: `/${c.target}/_block/write` })
      const blocked = await http.request({ method: 'PUT', path: `/${c.target}/_doc/9`, body: { id: 9, body: 'refused', updated_at: stamp() }, accept: [403] })
      expect(blocked.status).toBe(403)
      const release = await a.lock(c, 'next run')
      await release()
      await h.insert({ key: 9, text: 'accepted again' })
      expect((await http.request({ method: 'GET', path: `/.embedform/_doc/hold:${c.target}`, accept: [404] })).status).toBe(404)
    })

    it('writes copies of documents dated before 1970 without an external version (external_gte refuses negative ones)', async () => {
      const { h, a, c, http } = t
      await h.seed(rows(2))
      await http.request({ method: 'PUT', path: `/${c.target}/_doc/3`, body: { id: 3, body: 'an old letter', updated_at: -86_400_000 }, query: { refresh: 'true' } })
      await a.createGeneration(c, spec(1))
      await t.backfill(1)
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 3, fresh: 3, missing: 0 })
    })

    it('refuses a key field OpenSearch cannot sort on, naming the sortable sub-field', async () => {
      const { h, a, c } = t
      await h.seed(rows(2))
      await a.createGeneration(c, spec(1))
      const err = await rejection(collect(a.pending({ ...c, key: 'body' }, 1, { batchSize: 10, phase: 'backfill' })))
      expect(err.code).toBe('E_KEY_NOT_SORTABLE')
      expect(err.message).toContain('mapped as text')
      expect(err.location?.path).toBe(`collections.${c.name}.key`)
    })

    it('carries index settings and mapping parts the application depends on into the new generation, and lists them', async () => {
      const { a, c, http } = t
      await http.request({
        method: 'PUT',
        path: `/${c.target}`,
        body: {
          settings: { index: { number_of_shards: 1, number_of_replicas: 0, knn: true, 'knn.algo_param.ef_search': 256, analysis: { analyzer: { folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] } } } } },
          mappings: {
            dynamic_templates: [{ labels: { match: 'label_*', mapping: { type: 'keyword' } } }],
            _source: { excludes: ['scratch'] },
            properties: { id: { type: 'long' }, body: { type: 'text', analyzer: 'folded' }, updated_at: { type: 'date', format: 'epoch_millis' } },
          },
        },
      })
      await http.request({ method: 'PUT', path: `/${c.target}/_doc/1`, body: { id: 1, body: 'Crème brûlée', updated_at: stamp() }, query: { refresh: 'true' } })
      const desired = { dimensions: spec(1).dimensions, storage: spec(1).storage, createsObjects: true, cutsOver: true, generation: spec(1) }
      const notes = (await a.preflight(c, desired))
        .filter((p) => p.severity === 'note')
        .map((p) => p.message)
        .join('\n')
      expect(notes).toContain('index.knn.algo_param.ef_search=256')
      expect(notes).toContain('dynamic_templates: labels')
      expect(notes).toContain('index.analysis: analyzer.folded')
      expect(notes).toContain('fields excluded from _source (scratch)')
      await a.createGeneration(c, spec(1))
      const g1 = `${c.target}__g1`
      const body = (await http.request({ method: 'GET', path: `/${g1}` })).body[g1]
      const settings = flatSettings(body.settings.index)
      expect(settings['knn.algo_param.ef_search']).toBe('256')
      expect(settings['analysis.analyzer.folded.tokenizer']).toBe('standard')
      expect(body.mappings.dynamic_templates).toEqual([{ labels: { match: 'label_*', mapping: { type: 'keyword' } } }])
      expect(body.mappings._source).toEqual({ excludes: ['scratch'] })
      expect(body.mappings.properties.body).toEqual({ type: 'text', analyzer: 'folded' })
    })

    it('inspect and freshness post no _refresh and write nothing; pending writes no state', async () => {
      const { h, a, c, http } = t
      await t.ready(4)
      await h.updateText(2, 'two, edited')
      const before = await http.request({ method: 'GET', path: `/.embedform/_doc/generations:${c.target}` })
      await a.inspect(c)
      await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))
      const after = await http.request({ method: 'GET', path: `/.embedform/_doc/generations:${c.target}` })
      expect(after.body._seq_no).toBe(before.body._seq_no)
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

    it('shares a backfill between workers by slices of a point-in-time leased in .embedform: the slice of a dead holder is taken over after its lease expires', async () => {
      const { h, a, c } = t
      await h.seed(rows(60))
      await a.createGeneration(c, spec(1))
      await a.planRanges!(c, 1, 15)
      await a.planRanges!(c, 1, 5)
      expect(await a.rangesPlanned!(c, 1)).toBe(true)
      // A worker in another process claims a slice and dies: it never renews nor completes it.
      const other = new OpenSearchAdapter(Http.fromStore({ name: 'test', kind: 'opensearch', node: node() }))
      const dead = await other.leaseRange!(c, 1, { holder: 'dead worker', ttlMs: 400 })
      await other.close()
      if (!('range' in dead)) throw new Error(`the first claim got no slice: ${JSON.stringify(dead)}`)
      expect(dead.range.slice).toEqual({ id: dead.range.id, max: 4 })
      const written = new Map<string, number>()
      const encoder: Encoder = {
        dimensions: DIMS,
        provider: 'test',
        encode: async (texts) => texts.map((x) => vec(1, x)),
        async *encodeStream(batches) {
          for await (const items of batches) yield { items, vectors: items.map((i) => vec(1, i.text)) }
        },
        close: async () => undefined,
      }
      const counting = Object.create(a) as OpenSearchAdapter
      counting.write = async (col, g, batch, opts) => {
        for (const r of batch) written.set(String(r.key), (written.get(String(r.key)) ?? 0) + 1)
        return a.write(col, g, batch, opts)
      }
      const events: string[] = []
      const work = (holder: string) =>
        leasedBackfill({ adapter: counting, collection: c, generation: 1, encoder, zeroVectors: 'keep', holder, ttlMs: 400, batchSize: 4, retryBaseMs: 10, onRange: (e) => events.push(`${holder} ${e.state} ${e.range.id}`) })
      const [w1, w2] = await Promise.all([work('worker 1'), work('worker 2')])
      expect(w1.ranges + w2.ranges).toBe(4)
      expect(events.filter((e) => e.includes(' lost '))).toEqual([])
      expect(events.filter((e) => e.endsWith(`done ${dead.range.id}`))).toHaveLength(1)
      expect(await a.leaseRange!(c, 1, { holder: 'late worker', ttlMs: 400 })).toEqual({ done: true })
      // Every document once: the slices partition the index.
      expect([...written.keys()].sort()).toEqual(rows(60).map((r) => String(r.key)).sort())
      expect([...written.values()].every((n) => n === 1)).toBe(true)
      await a.buildIndex(c, 1)
      const f = await a.freshness(c, 1)
      expect(f).toMatchObject({ rows: 60, fresh: 60, missing: 0, stale: 0 })
      await a.dropGeneration(c, 1)
      expect(await a.rangesPlanned!(c, 1)).toBe(false)
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
