import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import type { RerankerSettings } from '../../../src/core/types.js'
import { parseGenerationSelector, selectGenerations } from '../../../src/search/generation.js'
import { renderSearch, snippet } from '../../../src/search/render.js'
import { type OpenSearchModelsOptions, openSearchModels, search } from '../../../src/search/search.js'
import type { Profile } from '../../../src/core/types.js'
import { DOCS, type EncoderLog, MemoryStore, collection, fakeOpenEncoder, fakeReranker, profile } from '../eval/fakes.js'

const reranker: RerankerSettings = { enabled: true, model: { source: 'builtin:cross-encoder-tiny' }, topK: 5, returnTopK: 2, batchSize: 8, maxTokens: 256 }

async function caught(p: Promise<unknown>): Promise<EmbedformError> {
  const e = await p.then(() => undefined, (err: unknown) => err)
  if (!(e instanceof EmbedformError)) throw new Error(`expected an EmbedformError, got ${String(e)}`)
  return e
}

async function run(p: Profile, s: MemoryStore, generation: number, query: string, opts: Partial<OpenSearchModelsOptions> & { k?: number; hybrid?: boolean } = {}) {
  const models = await openSearchModels(p, { rerank: false, openEncoder: fakeOpenEncoder(), openReranker: async () => fakeReranker(), ...opts })
  try {
    const g = s.generations.get(generation)?.state
    if (!g) throw new Error(`no generation ${generation}`)
    return await search({ adapter: s.asAdapter(), collection, generation: g, models, query, hybrid: opts.hybrid ?? false, ...(opts.k !== undefined ? { k: opts.k } : {}) })
  } finally {
    await models.close()
  }
}

describe('search', () => {
  it('encodes the query with the generation profile as kind "query" and returns ranked hits with timings', async () => {
    const p = profile('good', { prefixes: { query: 'query: ', document: '' } })
    const s = new MemoryStore(DOCS)
    s.addGeneration(2, 'live', p)
    const log: EncoderLog = { opened: [], encoded: [], closed: 0 }
    const r = await run(p, s, 2, 'linux kernel', { k: 3, openEncoder: fakeOpenEncoder(log) })
    expect(log.encoded).toEqual([{ profile: 'good', kind: 'query', texts: ['linux kernel'] }])
    expect(log.closed).toBe(1)
    expect(s.searches).toEqual([{ generation: 2, q: expect.objectContaining({ k: 3 }) }])
    expect(r.hits.map((h) => h.rank)).toEqual([1, 2, 3])
    expect(r.hits[0]?.key).toBe('d2')
    expect(r.reranked).toBe(false)
    expect(r.timings.rerankMs).toBeNull()
    for (const t of [r.timings.encodeMs, r.timings.retrieveMs, r.timings.totalMs]) expect(t).toBeGreaterThanOrEqual(0)
  })

  it('reranks the reranker topK candidates down to returnTopK', async () => {
    const p = profile('good', { reranker })
    const s = new MemoryStore(DOCS)
    s.addGeneration(1, 'live', p)
    const r = await run(p, s, 1, 'free prize vacation', { rerank: true })
    expect(s.searches[0]?.q.k).toBe(5)
    expect(r.retrieved).toBe(5)
    expect(r.hits).toHaveLength(2)
    expect(r.hits[0]).toMatchObject({ rank: 1, key: 'd6', score: 3 })
    expect(r.hits[0]?.retrievalScore).toBeGreaterThan(0)
    expect(r.timings.rerankMs).not.toBeNull()
    expect(renderSearch(r)).toMatch(/reranked 5 → 2/)
  })

  it('-k overrides returnTopK and widens retrieval when larger than topK', async () => {
    const p = profile('good', { reranker })
    const s = new MemoryStore(DOCS)
    s.addGeneration(1, 'live', p)
    const r = await run(p, s, 1, 'mail', { k: 6, rerank: true })
    expect(s.searches[0]?.q.k).toBe(6)
    expect(r.hits).toHaveLength(6)
  })

  it('refuses --rerank without a reranker and --hybrid on a store without hybrid search', async () => {
    const p = profile('good')
    const s = new MemoryStore(DOCS)
    s.addGeneration(1, 'live', p)
    const log: EncoderLog = { opened: [], encoded: [], closed: 0 }
    expect((await caught(run(p, s, 1, 'x', { rerank: true, openEncoder: fakeOpenEncoder(log) }))).code).toBe('E_RERANKER_NOT_CONFIGURED')
    expect(log.opened).toEqual([])
    expect((await caught(run(p, s, 1, 'x', { hybrid: true }))).code).toBe('E_HYBRID_UNSUPPORTED')
    expect(s.searches).toHaveLength(0)
  })

  it('passes the query text for hybrid retrieval where the store supports it', async () => {
    const p = profile('good')
    const s = new MemoryStore(DOCS)
    Object.assign(s.capabilities, { hybridSearch: true })
    s.addGeneration(1, 'live', p)
    const r = await run(p, s, 1, 'hiking', { hybrid: true })
    expect(s.searches[0]?.q).toMatchObject({ hybrid: true, text: 'hiking', k: 10 })
    expect(r.hybrid).toBe(true)
  })
})

describe('rendering', () => {
  it('keeps each hit on one line with a bounded snippet and prints the latency split', () => {
    expect(snippet('a\n b\t c')).toBe('a b c')
    expect(snippet('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`)
    const text = renderSearch({
      collection: 'docs', generation: 2, profile: 'good', query: 'q', reranked: false, hybrid: false, retrieved: 1,
      hits: [{ rank: 1, key: 42, score: 0.5, text: 'line one\nline two' }],
      timings: { loadMs: 5, encodeMs: 1.25, retrieveMs: 2.5, rerankMs: null, totalMs: 3.75 },
    })
    expect(text).toContain('   1  42   0.5000  line one line two')
    expect(text).toContain('latency: encode 1.3 ms · retrieve 2.5 ms · total 3.8 ms (model load 5.0 ms)')
  })
})

describe('selecting a generation', () => {
  it('parses live, gN, N and all', () => {
    expect(parseGenerationSelector('live', { allowAll: false })).toEqual({ kind: 'live' })
    expect(parseGenerationSelector('g3', { allowAll: false })).toEqual({ kind: 'id', id: 3 })
    expect(parseGenerationSelector('all', { allowAll: true })).toEqual({ kind: 'all' })
    expect(() => parseGenerationSelector('all', { allowAll: false })).toThrow(EmbedformError)
    expect(() => parseGenerationSelector('newest', { allowAll: true })).toThrow(/live, all or gN/)
  })

  it('resolves selectors against the store, listing what exists when one is missing', async () => {
    const s = new MemoryStore(DOCS)
    s.addGeneration(1, 'retained', profile('a'))
    s.addGeneration(2, 'live', profile('b'))
    s.addGeneration(3, 'building', profile('c'))
    const state = await s.inspect(collection)
    expect(selectGenerations(state, { kind: 'live' }).map((g) => g.id)).toEqual([2])
    expect(selectGenerations(state, { kind: 'all' }).map((g) => g.id)).toEqual([1, 2, 3])
    expect(selectGenerations(state, { kind: 'id', id: 3 })[0]?.status).toBe('building')
    let err: unknown
    try {
      selectGenerations(state, { kind: 'id', id: 9 })
    } catch (e) {
      err = e
    }
    expect((err as EmbedformError).hint).toBe('generations: g1 (retained), g2 (live), g3 (building)')
  })
})

describe('search models', () => {
  it('are opened once and reused across queries, closing encoder and reranker together', async () => {
    const p = profile('good', { reranker })
    const s = new MemoryStore(DOCS)
    const g = s.addGeneration(1, 'live', p)
    const log: EncoderLog = { opened: [], encoded: [], closed: 0 }
    let rerankersClosed = 0
    const models = await openSearchModels(p, {
      rerank: true,
      openEncoder: fakeOpenEncoder(log),
      openReranker: async (settings, opts) => {
        expect(settings).toBe(reranker)
        expect(opts?.device).toBe('cpu')
        return { ...fakeReranker(), close: async () => void rerankersClosed++ }
      },
    })
    for (const query of ['linux', 'mortgage', 'hiking']) await search({ adapter: s.asAdapter(), collection, generation: g, models, query, hybrid: false })
    await models.close()
    expect(log.opened).toEqual(['good'])
    expect(log.encoded).toHaveLength(3)
    expect([log.closed, rerankersClosed]).toEqual([1, 1])
  })
})
