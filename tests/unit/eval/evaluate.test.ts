import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import { evaluateGenerations, generationProfile, rankQueries } from '../../../src/eval/evaluate.js'
import { DOCS, type EncoderLog, MemoryStore, QRELS, QUERIES, collection, fakeOpenEncoder, profile } from './fakes.js'

const good = profile('good')
const random = profile('random', { model: { source: 'fake:random' } })

function store() {
  const s = new MemoryStore(DOCS)
  const live = s.addGeneration(1, 'live', good)
  const building = s.addGeneration(2, 'building', random)
  return { s, live, building }
}

describe('rankQueries', () => {
  it('encodes queries as kind "query" with the generation profile, prefix included, and searches that generation', async () => {
    const prefixed = profile('prefixed', { prefixes: { query: 'query: ', document: 'passage: ' } })
    const s = new MemoryStore(DOCS)
    s.addGeneration(3, 'live', prefixed)
    const log: EncoderLog = { opened: [], encoded: [], closed: 0 }
    const { rankings } = await rankQueries({ adapter: s.asAdapter(), collection, generation: 3, profile: prefixed, queries: QUERIES, k: 3, openEncoder: fakeOpenEncoder(log) })
    expect(log.opened).toEqual(['prefixed'])
    expect(log.encoded.every((e) => e.kind === 'query')).toBe(true)
    expect(log.encoded.flatMap((e) => e.texts)).toEqual(QUERIES.map((q) => q.text))
    expect(log.encoded.map((e) => e.texts.length)).toEqual([4])
    expect(log.closed).toBe(1)
    expect(s.searches.every((x) => x.generation === 3 && x.q.k === 3)).toBe(true)
    expect(rankings.get('q1')?.[0]).toBe('d1')
    expect(rankings.get('q2')?.[0]).toBe('d2')
  })
})

describe('evaluateGenerations', () => {
  it('reports NDCG, Recall, MRR and MAP per cutoff for live and building generations', async () => {
    const { s, live, building } = store()
    const report = await evaluateGenerations({
      adapter: s.asAdapter(),
      collection,
      config: { profiles: {} },
      available: [live, building],
      targets: [live, building],
      queries: QUERIES,
      qrels: QRELS,
      cutoffs: [1, 3],
      openEncoder: fakeOpenEncoder(),
    })
    expect(report.judged).toBe(true)
    expect(report.metrics).toEqual(['ndcg@1', 'ndcg@3', 'recall@1', 'recall@3', 'mrr@1', 'mrr@3', 'map@1', 'map@3'])
    const [g1, g2] = report.generations
    expect(g1?.status).toBe('live')
    expect(g2?.status).toBe('building')
    expect(g1?.metrics['mrr@3']).toEqual({ value: 1, queries: 4, skipped: 0 })
    expect(g1?.metrics['ndcg@1']?.value).toBe(1)
    // q3 has two relevant documents: recall@1 is 1/2 there.
    expect(g1?.metrics['recall@1']?.value).toBeCloseTo((1 + 1 + 0.5 + 1) / 4, 10)
    expect(g2?.metrics['ndcg@3']?.value ?? 1).toBeLessThan(g1?.metrics['ndcg@3']?.value ?? 0)
  })

  it('without qrels reports overlap@k with the live generation (live scores 1)', async () => {
    const { s, live, building } = store()
    const log: EncoderLog = { opened: [], encoded: [], closed: 0 }
    const report = await evaluateGenerations({
      adapter: s.asAdapter(),
      collection,
      config: { profiles: {} },
      available: [live, building],
      targets: [live, building],
      queries: QUERIES,
      cutoffs: [3],
      openEncoder: fakeOpenEncoder(log),
    })
    expect(report.judged).toBe(false)
    expect(report.metrics).toEqual(['overlap@3'])
    expect(report.generations[0]?.metrics['overlap@3']?.value).toBe(1)
    expect(report.generations[1]?.metrics['overlap@3']?.value).toBeLessThan(1)
    // the live generation is ranked once even though it is both reference and target
    expect(log.opened).toEqual(['good', 'random'])
  })

  it('without qrels and without a live generation it is an input error', async () => {
    const s = new MemoryStore(DOCS)
    const building = s.addGeneration(2, 'building', good)
    const err = await evaluateGenerations({
      adapter: s.asAdapter(),
      collection,
      config: { profiles: {} },
      available: [building],
      targets: [building],
      queries: QUERIES,
      cutoffs: [3],
      openEncoder: fakeOpenEncoder(),
    }).catch((e: unknown) => e)
    expect((err as EmbedformError).code).toBe('E_EVAL_NO_REFERENCE')
  })
})

describe('generationProfile', () => {
  it('uses the snapshot, else the declared adopted_profile, else explains what to declare', () => {
    const s = new MemoryStore(DOCS)
    const built = s.addGeneration(2, 'building', random)
    const adopted = s.addGeneration(1, 'live', null, good)
    expect(generationProfile(built, { ...collection, adoptedProfile: 'good' }, { profiles: { good } })).toBe(random)
    expect(generationProfile(adopted, { ...collection, adoptedProfile: 'good' }, { profiles: { good } })).toBe(good)
    const err = (() => {
      try {
        generationProfile(adopted, collection, { profiles: { good } })
      } catch (e) {
        return e as EmbedformError
      }
    })()
    expect(err?.code).toBe('E_GENERATION_MODEL_UNKNOWN')
    expect(err?.hint).toMatch(/adopted_profile/)
    expect(err?.location?.object).toBe('embedding')
  })
})
