import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import type { Profile } from '../../src/core/types.js'
import { cosine, defaultTokenBudget, openEncoder, openReranker, type OnnxEncoder } from '../../src/encoder/index.js'
import { makeProfile } from '../helpers/profile.js'

function profile(over: Partial<Profile> = {}): Profile {
  return makeProfile({
    name: 'test',
    file: '/repo/profiles/test.yaml',
    model: { source: 'builtin:starter' },
    dimensions: 100,
    batchSize: 4,
    threads: 1,
    ...over,
  })
}

const TEXTS = [
  'machine learning',
  'a long sentence about cooking pasta with tomatoes garlic and olive oil for dinner tonight',
  'neural networks',
  'pizza recipe',
  'the stock market fell sharply on monday as investors worried',
  'cats',
  'deep learning models need a lot of data and compute to train well',
  'weather',
  'football match results',
]

describe('encoder on builtin:starter (GloVe static model)', () => {
  let encoder: OnnxEncoder
  beforeAll(async () => {
    encoder = await openEncoder(profile())
  })
  afterAll(() => encoder.close())

  it('puts related texts closer than unrelated ones', async () => {
    const [ml, nn, pizza] = await encoder.encode(['machine learning', 'neural networks', 'pizza recipe'], 'document')
    expect(cosine(ml as Float32Array, nn as Float32Array)).toBeGreaterThan(cosine(ml as Float32Array, pizza as Float32Array))
  })

  it('returns unit vectors of the profile’s dimensions on cpu', async () => {
    const vectors = await encoder.encode(TEXTS, 'document')
    expect(encoder.provider).toBe('cpu')
    expect(vectors).toHaveLength(TEXTS.length)
    for (const v of vectors) {
      expect(v).toHaveLength(100)
      expect(Math.hypot(...v)).toBeCloseTo(1, 5)
    }
  })

  it('restores the input order after length-sorted batching', async () => {
    const batched = await encoder.encode(TEXTS, 'document')
    for (const [i, text] of TEXTS.entries()) {
      const [alone] = await encoder.encode([text], 'document')
      expect(cosine(batched[i] as Float32Array, alone as Float32Array)).toBeGreaterThan(0.99999)
    }
  })

  it('batches by the default token budget for its width and counts padded-token waste', async () => {
    expect(encoder.tokenBudget).toBe(defaultTokenBudget('cpu', 100))
    const before = encoder.stats
    await encoder.encode(TEXTS, 'document')
    const after = encoder.stats
    expect(after.texts - before.texts).toBe(TEXTS.length)
    expect(after.paddedTokens - before.paddedTokens).toBeGreaterThanOrEqual(after.realTokens - before.realTokens)
    expect(after.realTokens - before.realTokens).toBeGreaterThan(TEXTS.length)
  })

  it('streams batches in order with the same vectors as encode()', async () => {
    async function* source() {
      for (let i = 0; i < TEXTS.length; i += 2) yield TEXTS.slice(i, i + 2).map((text, k) => ({ id: i + k, text }))
    }
    const whole = await encoder.encode(TEXTS, 'document')
    const seen: number[] = []
    for await (const { items, vectors } of encoder.encodeStream(source(), 'document')) {
      expect(vectors).toHaveLength(items.length)
      items.forEach((item, k) => {
        seen.push(item.id)
        expect(cosine(vectors[k] as Float32Array, whole[item.id] as Float32Array)).toBeGreaterThan(0.99999)
      })
    }
    expect(seen).toEqual(TEXTS.map((_, i) => i))
  })

  it('streams with bounded memory: reads at most two batches ahead of the consumer', async () => {
    let pulled = 0
    async function* endless() {
      for (;;) {
        pulled++
        yield [{ text: 'machine learning' }]
      }
    }
    const stream = encoder.encodeStream(endless(), 'document')[Symbol.asyncIterator]()
    for (let i = 0; i < 3; i++) await stream.next()
    await stream.return?.()
    expect(pulled).toBeLessThanOrEqual(4)
  })
})

describe('profile settings', () => {
  it('applies the query prefix only to queries', async () => {
    const enc = await openEncoder(profile({ prefixes: { query: 'pizza ', document: '' } }))
    const [q] = await enc.encode(['machine learning'], 'query')
    const [d] = await enc.encode(['machine learning'], 'document')
    const [both] = await enc.encode(['pizza machine learning'], 'document')
    await enc.close()
    expect(cosine(q as Float32Array, both as Float32Array)).toBeGreaterThan(0.99999)
    expect(cosine(q as Float32Array, d as Float32Array)).toBeLessThan(0.999)
  })

  it('truncates to maxTokens', async () => {
    const enc = await openEncoder(profile({ maxTokens: 2 }))
    const [cut] = await enc.encode(['machine learning pizza recipe'], 'document')
    const [head] = await enc.encode(['machine learning'], 'document')
    await enc.close()
    expect(cosine(cut as Float32Array, head as Float32Array)).toBeGreaterThan(0.99999)
  })

  it('Matryoshka: a narrower profile keeps the renormalized prefix of the full vector', async () => {
    const wide = await openEncoder(profile({ normalize: false }))
    const narrow = await openEncoder(profile({ dimensions: 10, normalize: true }))
    const [full] = await wide.encode(['machine learning'], 'document')
    const [cut] = await narrow.encode(['machine learning'], 'document')
    await Promise.all([wide.close(), narrow.close()])
    expect(narrow.dimensions).toBe(10)
    const prefix = (full as Float32Array).slice(0, 10)
    const norm = Math.hypot(...prefix)
    expect([...(cut as Float32Array)].map((x) => x.toFixed(5))).toEqual([...prefix].map((x) => (x / norm).toFixed(5)))
  })

  it('a profile wider than the model fails at open with E_DIMENSIONS at the profile key', async () => {
    const err = await openEncoder(profile({ dimensions: 384 })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbedformError)
    expect(err).toMatchObject({ code: 'E_DIMENSIONS', kind: 'input', location: { file: '/repo/profiles/test.yaml', path: 'dimensions' } })
    expect((err as Error).message).toContain('produces 100')
  })
})

describe('execution providers', () => {
  it('cuda without the CUDA provider is E_CUDA_UNAVAILABLE with the install command', async () => {
    for (const device of ['cuda', 'cuda:1'] as const) {
      const err = await openEncoder(profile({ device })).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'E_CUDA_UNAVAILABLE', kind: 'input', location: { path: 'device' } })
      expect((err as EmbedformError).hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node')
    }
  })

  it('webgpu without an adapter is E_WEBGPU_UNAVAILABLE at the profile key', async () => {
    await expect(openEncoder(profile({ device: 'webgpu' }))).rejects.toMatchObject({ code: 'E_WEBGPU_UNAVAILABLE', kind: 'input', location: { path: 'device' } })
  })

  it('auto falls back to cpu and says so', async () => {
    const log: string[] = []
    const enc = await openEncoder(profile({ device: 'auto' }), { log: (m) => log.push(m) })
    await enc.close()
    expect(enc.provider).toBe('cpu')
    expect(log.join('\n')).toMatch(/device auto: .*using CPU/)
  })
})

describe('reranker on builtin:cross-encoder-tiny', () => {
  it('returns the top N by the model’s per-pair score, with original indices', async () => {
    const settings = { enabled: true, model: { source: 'builtin:cross-encoder-tiny' }, topK: 20, returnTopK: 3, batchSize: 3, maxTokens: 64 }
    const batched = await openReranker(settings, { threads: 1 })
    const single = await openReranker({ ...settings, batchSize: 1 }, { threads: 1 })
    const query = 'how do neural networks learn'
    const manual: number[] = []
    for (const p of TEXTS) manual.push(((await single.rerank(query, [p], 1))[0] as { score: number }).score)
    const top = await batched.rerank(query, TEXTS, 4)
    await Promise.all([batched.close(), single.close()])
    const expected = manual
      .map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 4)
    expect(top.map((r) => r.index)).toEqual(expected.map((r) => r.index))
    top.forEach((r, i) => expect(r.score).toBeCloseTo((expected[i] as { score: number }).score, 4))
    expect(batched.provider).toBe('cpu')
  })
})
