import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { withBatchProgress } from '../../../src/apply/batch-progress.js'
import { makePlan } from '../../../src/plan/index.js'
import { fakeEncoder, fakeVector } from '../../helpers/fake-encoder.js'
import { memoryWorld, testCollection, testProfile } from '../../helpers/memory-adapter.js'

/** Texts of very different lengths, so batching by length reorders them within a page. */
const texts = (n: number) => Array.from({ length: n }, (_, i) => ({ key: i + 1, text: `row ${i + 1} ${'word '.repeat((i * 37) % 23)}`.trim() }))

async function* pagesOf<T>(items: T[], size: number): AsyncIterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

describe('withBatchProgress', () => {
  it('reports every encoder batch, and gives back whole pages in order with each vector beside its own text', async () => {
    const profile = testProfile('speed', { batchSize: 8 })
    const inner = fakeEncoder(profile)
    const batches: number[] = []
    const wrapped = withBatchProgress(inner, profile.batchSize, (rows) => batches.push(rows))
    const items = texts(45)
    const pages: { key: number; text: string }[][] = []
    for await (const { items: page, vectors } of wrapped.encodeStream(pagesOf(items, 20), 'document')) {
      pages.push(page)
      page.forEach((row, k) => expect(vectors[k]).toEqual(fakeVector(row.text, profile.dimensions)))
    }
    expect(pages.map((p) => p.map((r) => r.key))).toEqual([items.slice(0, 20), items.slice(20, 40), items.slice(40)].map((p) => p.map((r) => r.key)))
    // 20 rows → 8 + 8 + 4, twice, then 5.
    expect(batches).toEqual([8, 8, 4, 8, 8, 4, 5])
  })

  it('passes empty pages through in order', async () => {
    const profile = testProfile('speed', { batchSize: 4 })
    async function* pages() {
      yield texts(3)
      yield []
      yield texts(2)
    }
    const out: number[] = []
    for await (const { items } of withBatchProgress(fakeEncoder(profile), 4, () => undefined).encodeStream(pages(), 'document')) out.push(items.length)
    expect(out).toEqual([3, 0, 2])
  })
})

describe('apply progress', () => {
  it('a backfill of N rows with encoder batch size b emits at least N/b progress events, rising to N', async () => {
    const N = 100
    const b = 8
    const docs = testCollection('docs', 'speed')
    const w = memoryWorld({ profiles: [testProfile('speed', { batchSize: b })], collections: [docs] })
    w.adapter.seed('docs', texts(N))
    // Store pages of 50 rows: counting pages alone would give 2 events.
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 50 })
    const done = w.events.flatMap((e) => (e.type === 'progress' && e.step === 'docs/g1/backfill' ? [e.done] : []))
    expect(done.length).toBeGreaterThanOrEqual(Math.ceil(N / b))
    expect(done).toEqual([...done].sort((x, y) => x - y))
    expect(done.at(-1)).toBe(N)
    expect(w.adapter.writeCounts('docs', 1)).toEqual(Array(N).fill(1))
  })
})
