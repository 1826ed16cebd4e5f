import { describe, expect, it } from 'vitest'
import { applyPlan, gc, rollback, status } from '../../../src/apply/index.js'
import type { Collection } from '../../../src/core/types.js'
import { makePlan } from '../../../src/plan/index.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'a')
const opts = { retryBaseMs: 1, batchSize: 4 }

/** g1 (profile a) → g2 (b) → g3 (c): g3 live, g1 and g2 retained. */
async function threeGenerations() {
  const profiles = ['a', 'b', 'c'].map((n) => testProfile(n, { model: { source: `builtin:${n}` } }))
  const w = memoryWorld({ profiles, collections: [docs] })
  w.adapter.seed('docs', rows(6))
  for (const p of ['a', 'b', 'c']) {
    ;(w.ctx.config.collections.docs as Collection).profile = p
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
  }
  return w
}

describe('rollback', () => {
  it('switches readers back to the previous generation without re-embedding', async () => {
    const w = await threeGenerations()
    const encoded = w.encoder.encodedTexts
    const result = await rollback(w.ctx, 'docs')
    expect(result).toMatchObject({ collection: 'docs', from: 3, to: 2, missing: 0, warnings: [] })
    expect(w.encoder.encodedTexts).toBe(encoded)
    const state = await w.adapter.inspect(docs)
    expect(state.generations.map((g) => [g.id, g.status])).toEqual([[1, 'retained'], [2, 'live'], [3, 'retained']])
    expect(state.lock).toBeNull()
    expect(await rollback(w.ctx, 'docs', { to: 1 })).toMatchObject({ from: 2, to: 1 })
  })

  it('re-embeds exactly the rows written or edited while the target was not live, with the target profile', async () => {
    const w = await threeGenerations()
    w.adapter.upsertRow('docs', 99, 'written while g3 was live')
    w.adapter.upsertRow('docs', 2, 'edited while g3 was live')
    const encoded = w.encoder.encodedTexts
    const result = await rollback(w.ctx, 'docs')
    expect(result).toMatchObject({ to: 2, missing: 1, stale: 1, reembedded: 2, leftStale: 0 })
    expect(w.encoder.encodedTexts - encoded).toBe(2)
    expect(await w.adapter.freshness(docs, 2)).toMatchObject({ rows: 7, fresh: 7, stale: 0, missing: 0 })
  })

  it('rebuilds an index that gc --indexes dropped before switching, and says how long it took', async () => {
    const w = await threeGenerations()
    const dropped = await gc(w.ctx, undefined, { keep: 0, indexesOnly: true })
    expect(dropped.dropped.map((d) => [d.generation, d.index !== undefined])).toEqual([
      [2, true],
      [1, true],
    ])
    let state = await w.adapter.inspect(docs)
    expect(state.generations.map((g) => [g.id, g.status, g.index === null, g.populated])).toEqual([
      [1, 'retained', true, 6],
      [2, 'retained', true, 6],
      [3, 'live', false, 6],
    ])
    const result = await rollback(w.ctx, 'docs')
    expect(result.indexRebuildMs).toBeGreaterThanOrEqual(0)
    state = await w.adapter.inspect(docs)
    expect(state.generations.find((g) => g.id === 2)).toMatchObject({ status: 'live', index: { valid: true } })
  })

  it('refuses clearly when nothing is retained or the target is not retained', async () => {
    const w = memoryWorld({ profiles: [testProfile('a')], collections: [docs] })
    w.adapter.seed('docs', rows(3))
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    await expect(rollback(w.ctx, 'docs')).rejects.toMatchObject({ code: 'E_NOTHING_RETAINED', kind: 'input' })
    await expect(rollback(w.ctx, 'docs', { to: 1 })).rejects.toMatchObject({ code: 'E_ROLLBACK_TARGET', message: expect.stringContaining('g1 is live') })
  })

  it('abandons an apply that stopped before its cutover', async () => {
    const w = await threeGenerations()
    w.ctx.config.profiles.d = testProfile('d', { model: { source: 'builtin:d' } })
    ;(w.ctx.config.collections.docs as Collection).profile = 'd'
    const plan = await makePlan(w.ctx)
    w.adapter.failOn('buildIndex')
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toMatchObject({ code: 'E_SIMULATED' })
    const result = await rollback(w.ctx, 'docs')
    expect(result).toMatchObject({ from: 3, to: 3, abandoned: { planId: plan.id, generation: 4 } })
    const state = await w.adapter.inspect(docs)
    expect(state.journal).toBeNull()
    expect(state.generations.map((g) => g.id)).toEqual([1, 2, 3])
  })

  it('abandons a stopped cutover to a retained generation without dropping that generation', async () => {
    const w = await threeGenerations()
    ;(w.ctx.config.collections.docs as Collection).profile = 'a'
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('cutover-retained')
    w.adapter.failOn('verify')
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toMatchObject({ code: 'E_SIMULATED' })
    expect(await rollback(w.ctx, 'docs')).toMatchObject({ from: 3, to: 3, abandoned: { planId: plan.id, generation: 1 } })
    const state = await w.adapter.inspect(docs)
    expect(state.generations.map((g) => [g.id, g.status])).toEqual([[1, 'retained'], [2, 'retained'], [3, 'live']])
    expect(state.journal).toBeNull()
  })
})

describe('gc', () => {
  it('drops retained generations beyond the newest `keep`, dry run first', async () => {
    const w = await threeGenerations()
    const dry = await gc(w.ctx, 'docs', { keep: 1, dryRun: true })
    expect(dry).toMatchObject({ dryRun: true, dropped: [{ collection: 'docs', generation: 1, physical: 'embedding__g1', populated: 6 }], kept: [{ generation: 2 }] })
    expect((await w.adapter.inspect(docs)).generations).toHaveLength(3)
    await gc(w.ctx, undefined, { keep: 1 })
    expect((await w.adapter.inspect(docs)).generations.map((g) => g.id)).toEqual([2, 3])
    await gc(w.ctx, 'docs', { keep: 0 })
    expect((await w.adapter.inspect(docs)).generations.map((g) => g.id)).toEqual([3])
    await expect(rollback(w.ctx, 'docs')).rejects.toMatchObject({ code: 'E_NOTHING_RETAINED' })
  })

  it('rejects a negative keep', async () => {
    const w = await threeGenerations()
    await expect(gc(w.ctx, 'docs', { keep: -1 })).rejects.toMatchObject({ code: 'E_GC_KEEP', kind: 'input' })
  })
})

describe('status', () => {
  it('reports the live generation, every generation and whether config matches', async () => {
    const w = await threeGenerations()
    w.adapter.upsertRow('docs', 50, 'new row not embedded anywhere yet')
    const report = await status(w.ctx)
    const s = report.collections[0]
    expect(s).toMatchObject({ collection: 'docs', rows: 7, matchesConfig: true, change: 'none', live: { generation: 3, profile: 'c' }, lock: null, journal: null })
    expect(s?.generations.map((g) => [g.id, g.status, g.populated, g.missing])).toEqual([
      [3, 'live', 6, 1],
      [2, 'retained', 6, 1],
      [1, 'retained', 6, 1],
    ])
    expect(s?.generations[0]?.index).toMatchObject({ method: 'hnsw', valid: true })
  })

  it('shows a config mismatch and the journal of an apply in flight', async () => {
    const w = await threeGenerations()
    ;(w.ctx.config.collections.docs as Collection).profile = 'a'
    expect((await status(w.ctx, ['docs'])).collections[0]).toMatchObject({ matchesConfig: false, change: 'cutover-retained' })
    w.ctx.config.profiles.d = testProfile('d', { model: { source: 'builtin:d' } })
    ;(w.ctx.config.collections.docs as Collection).profile = 'd'
    const plan = await makePlan(w.ctx)
    w.adapter.failOn('verify')
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toThrow()
    expect((await status(w.ctx)).collections[0]?.journal).toMatchObject({ planId: plan.id, current: 'docs/g4/verify' })
  })
})

describe('index rebuild and cutover to retained', () => {
  it('rebuilds the live index with new settings and then reports no changes', async () => {
    const p = testProfile('a')
    const w = memoryWorld({ profiles: [p], collections: [docs] })
    w.adapter.seed('docs', rows(5))
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    w.ctx.config.profiles.a = { ...p, index: { ...p.index, pgvector: { type: 'hnsw', m: 24, efConstruction: 100 } } }
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('index-rebuild')
    const encoded = w.encoder.encodedTexts
    await applyPlan(w.ctx, plan, opts)
    expect(w.encoder.encodedTexts).toBe(encoded)
    expect((await w.adapter.inspect(docs)).generations[0]?.indexSettings?.pgvector).toEqual({ type: 'hnsw', m: 24, efConstruction: 100 })
    expect((await makePlan(w.ctx)).collections[0]?.change).toBe('none')
  })

  it('returns to a retained generation, embedding only rows it never saw', async () => {
    const w = await threeGenerations()
    w.adapter.upsertRow('docs', 77, 'arrived while g3 was live')
    ;(w.ctx.config.collections.docs as Collection).profile = 'a'
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]).toMatchObject({ change: 'cutover-retained', to: { generation: 1 } })
    const result = await applyPlan(w.ctx, plan, opts)
    expect(result.collections[0]?.rowsWritten).toBe(1)
    expect(w.adapter.writeCounts('docs', 1)).toEqual([...Array(6).fill(1), 1])
    expect(w.adapter.writeCount('docs', 1, 77)).toBe(1)
    expect((await w.adapter.inspect(docs)).live).toBe(1)
  })
})
