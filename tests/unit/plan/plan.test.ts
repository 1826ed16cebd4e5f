import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { fingerprint } from '../../../src/core/fingerprint.js'
import type { Collection } from '../../../src/core/types.js'
import { makePlan, planHasChanges, renderPlan } from '../../../src/plan/index.js'
import type { LiveState } from '../../../src/store/adapter.js'
import { fakeVector } from '../../helpers/fake-encoder.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const kinds = (plan: Awaited<ReturnType<typeof makePlan>>) => plan.collections[0]?.steps.map((s) => s.kind)

async function appliedWorld(profile = testProfile('speed')) {
  const w = memoryWorld({ profiles: [profile], collections: [testCollection('docs', profile.name)] })
  w.adapter.seed('docs', rows(20))
  await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
  return w
}

describe('makePlan: what the plan distinguishes', () => {
  it('plans g1 as a new generation when the collection has no vectors yet', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [testCollection('docs', 'speed')] })
    w.adapter.seed('docs', rows(10))
    const plan = await makePlan(w.ctx)
    const cp = plan.collections[0]
    expect(cp?.change).toBe('new-generation')
    expect(cp?.from).toBeNull()
    expect(cp?.to.generation).toBe(1)
    expect(kinds(plan)).toEqual(['create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'cutover'])
    expect(cp?.steps.filter((s) => s.affectsReaders).map((s) => s.kind)).toEqual(['cutover'])
    expect(cp?.steps.find((s) => s.kind === 'backfill')?.estimate.rows).toBe(10)
    expect(planHasChanges(plan)).toBe(true)
  })

  it('reports no changes once live state matches', async () => {
    const w = await appliedWorld()
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('none')
    expect(planHasChanges(plan)).toBe(false)
    expect(renderPlan(plan)).toContain('No changes. Live state matches the configuration.')
  })

  it('lists device / batch size / threads as runtime settings, never a store change', async () => {
    const w = await appliedWorld()
    w.ctx.config.profiles.speed = { ...testProfile('speed'), batchSize: 64, threads: 2 }
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('runtime-only')
    expect(plan.collections[0]?.steps).toEqual([])
    expect(plan.collections[0]?.runtime.map((r) => r.key)).toEqual(['batchSize', 'threads'])
    expect(planHasChanges(plan)).toBe(false)
    expect(renderPlan(plan)).toMatch(/runtime settings \(no store change\):\n {4}batchSize: 16 → 64/)
  })

  it('rebuilds only the index when index settings change', async () => {
    const w = await appliedWorld()
    const p = testProfile('speed')
    w.ctx.config.profiles.speed = { ...p, index: { ...p.index, pgvector: { type: 'hnsw', m: 32, efConstruction: 128 } } }
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('index-rebuild')
    expect(kinds(plan)).toEqual(['drop-index', 'build-index', 'verify'])
    expect(plan.summary.rowsToEncode).toBe(0)
    const text = renderPlan(plan)
    expect(text).toContain('~ build index hnsw(m=32, ef_construction=128) on g1')
    expect(text).toMatch(/- drop index .* \(search on it is slower until the rebuild finishes\)/)
  })

  it('plans a new generation for new index settings on a store that cannot rebuild an index in place', async () => {
    const w = await appliedWorld()
    Object.assign(w.adapter, { capabilities: { ...w.adapter.capabilities, inPlaceIndexRebuild: false } })
    const p = testProfile('speed')
    w.ctx.config.profiles.speed = { ...p, index: { ...p.index, pgvector: { ...p.index.pgvector, m: 32 } } }
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('new-generation')
    expect(plan.collections[0]?.to.generation).toBe(2)
    expect(plan.collections[0]?.warnings.join('\n')).toMatch(/cannot rebuild an index in place/)
  })

  it('ignores index settings of other stores: an opensearch section change leaves a pgvector-family index alone', async () => {
    const w = await appliedWorld()
    const p = testProfile('speed')
    w.ctx.config.profiles.speed = { ...p, index: { ...p.index, opensearch: { ...p.index.opensearch, m: 48, engine: 'lucene' } } }
    expect((await makePlan(w.ctx)).collections[0]?.change).toBe('none')
  })

  it('plans no index step when the store says none is needed (pgvector type: none)', async () => {
    const p = testProfile('speed')
    const noIndex = { ...p, index: { ...p.index, pgvector: { ...p.index.pgvector, type: 'none' as const } } }
    const w = memoryWorld({ profiles: [noIndex], collections: [testCollection('docs', 'speed')] })
    w.adapter.seed('docs', rows(10))
    expect(kinds(await makePlan(w.ctx))).toEqual(['create-generation', 'backfill', 'catch-up', 'verify', 'cutover'])
  })

  it('keeps the build-index step on OpenSearch even when the profile says index.pgvector.type: none (the step restores refresh and replicas)', async () => {
    const p = testProfile('speed')
    const noPgIndex = { ...p, index: { ...p.index, pgvector: { ...p.index.pgvector, type: 'none' as const } } }
    const w = memoryWorld({ profiles: [noPgIndex], collections: [testCollection('docs', 'speed')] })
    w.ctx.config.stores.mem = { name: 'mem', kind: 'opensearch', node: 'http://localhost:9200' }
    w.adapter.seed('docs', rows(10))
    const plan = await makePlan(w.ctx)
    expect(kinds(plan)).toEqual(['create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'cutover'])
    expect(plan.collections[0]?.steps.find((s) => s.kind === 'build-index')?.title).toMatch(/hnsw\/faiss\(m=16/)
  })

  it('plans a new generation for a new fingerprint and retains the previous one', async () => {
    const w = await appliedWorld()
    w.ctx.config.profiles.speed = testProfile('speed', { model: { source: 'builtin:other' }, throughput: 100 })
    const plan = await makePlan(w.ctx)
    const cp = plan.collections[0]
    expect(cp?.change).toBe('new-generation')
    expect(cp?.from?.generation).toBe(1)
    expect(cp?.to.generation).toBe(2)
    expect(kinds(plan)).toEqual(['create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'cutover', 'retain-previous'])
    expect(cp?.steps[0]?.estimate.bytes).toBe(20 * (4 * 8 + 8))
    expect(cp?.steps[1]?.estimate.seconds).toBeCloseTo(0.2)
    expect(cp?.to.fingerprint).toBe(fingerprint(w.ctx.config.profiles.speed))
    const text = renderPlan(plan)
    expect(text).toMatch(/\+ create generation g2 \(speed, 8-d vector, fingerprint [0-9a-f]{8}…\)/)
    expect(text).toMatch(/~ cut over embedding → g2 +← readers switch here/)
  })

  it('cuts over to a retained generation whose fingerprint matches, without re-embedding', async () => {
    const a = testProfile('a')
    const b = testProfile('b', { model: { source: 'builtin:b' } })
    const w = memoryWorld({ profiles: [a, b], collections: [testCollection('docs', 'a')] })
    w.adapter.seed('docs', rows(12))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    ;(w.ctx.config.collections.docs as Collection).profile = 'b'
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    ;(w.ctx.config.collections.docs as Collection).profile = 'a'
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('cutover-retained')
    expect(plan.collections[0]?.to.generation).toBe(1)
    expect(kinds(plan)).toEqual(['catch-up', 'verify', 'cutover', 'retain-previous'])
    expect(plan.summary.rowsToEncode).toBe(0)
  })

  it('re-embeds adopted vectors of unknown origin, but keeps them when adopted_profile describes them', async () => {
    const p = testProfile('speed')
    const w = memoryWorld({ profiles: [p], collections: [testCollection('docs', 'speed')] })
    w.adapter.seed('docs', rows(5))
    w.adapter.adoptLive('docs', { dimensions: 8, vector: (t) => fakeVector(t, 8), indexed: true })
    const unknown = await makePlan(w.ctx)
    expect(unknown.collections[0]?.change).toBe('new-generation')
    expect(unknown.collections[0]?.to.generation).toBe(2)
    expect(unknown.collections[0]?.warnings.join('\n')).toContain('set adopted_profile')

    ;(w.ctx.config.collections.docs as Collection).adoptedProfile = 'speed'
    const adopted = await makePlan(w.ctx)
    expect(adopted.collections[0]?.change).toBe('none')
    expect(adopted.collections[0]?.warnings.join('\n')).toContain('settings embedform did not record')
  })

  it('reaches new dimensions only through a new generation', async () => {
    const w = await appliedWorld()
    w.ctx.config.profiles.speed = testProfile('speed', { dimensions: 4 })
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.change).toBe('new-generation')
    expect(plan.collections[0]?.warnings.join('\n')).toContain('dimensions change 8 → 4')
  })

  it('adds a quality gate step before the cutover when the profile declares one', async () => {
    const w = await appliedWorld()
    w.ctx.config.profiles.speed = testProfile('speed', { model: { source: 'builtin:x' }, gate: { metric: 'ndcg@10', queries: 'q.jsonl', maxDrop: 0.02 } })
    expect(kinds(await makePlan(w.ctx))).toEqual(['create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'quality-gate', 'cutover', 'retain-previous'])
  })

  it('shows how the first cutover adopts a concrete object the application reads', async () => {
    class ConcreteIndexStore extends MemoryAdapter {
      override async inspect(c: Collection): Promise<LiveState> {
        return { ...(await super.inspect(c)), adoptable: 'docs' }
      }
      async describeAdoption(): Promise<string[]> {
        return ['reindex docs into docs__g1, then swap an alias named docs in its place']
      }
    }
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [testCollection('docs', 'speed')], adapter: new ConcreteIndexStore() })
    w.adapter.seed('docs', rows(3))
    const cp = (await makePlan(w.ctx)).collections[0]
    expect(cp?.steps.find((s) => s.kind === 'cutover')?.touches).toContain('docs')
    expect(cp?.warnings).toContain('adoption of docs: reindex docs into docs__g1, then swap an alias named docs in its place')
  })

  it('names unknown collections and missing targets as input errors', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [testCollection('docs', 'speed')] })
    await expect(makePlan(w.ctx, { collections: ['nope'] })).rejects.toMatchObject({ code: 'E_UNKNOWN_COLLECTION', kind: 'input' })
    await expect(makePlan(w.ctx)).rejects.toMatchObject({ code: 'E_COLLECTION_MISSING', kind: 'input' })
  })
})

class MillionRowAdapter extends MemoryAdapter {
  override async inspect(c: Collection): Promise<LiveState> {
    return { ...(await super.inspect(c)), rows: 1_000_000, rowsExact: false }
  }
}

describe('makePlan: estimates', () => {
  it('prints the summary line from declared throughput and vector storage', async () => {
    const p = testProfile('speed', { dimensions: 384, throughput: 1_000_000 / 15_000 })
    const w = memoryWorld({ profiles: [p], collections: [testCollection('docs', 'speed')], adapter: new MillionRowAdapter() })
    w.adapter.seed('docs', rows(3))
    const plan = await makePlan(w.ctx)
    expect(renderPlan(plan)).toContain('Plan: 1 new generation, 0 index rebuilds, 0 cutovers to retained; 1,000,000 rows to encode (~4h10m), +1.5 GB storage.')
    expect(renderPlan(plan)).toContain('basis: declared 67 texts/s')
    expect(renderPlan(plan)).toContain('basis: hnsw ~2,000 rows/s on one core at ef_construction=64')
  })

  it('says the time is unknown rather than inventing one', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [testCollection('docs', 'speed')] })
    w.adapter.seed('docs', rows(3))
    const plan = await makePlan(w.ctx)
    expect(plan.summary.timeKnown).toBe(false)
    expect(renderPlan(plan)).toContain('3 rows to encode (time unknown)')
  })

  it('measures throughput with a short encoder run when asked', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [testCollection('docs', 'speed')] })
    w.adapter.seed('docs', rows(3))
    const plan = await makePlan(w.ctx, { measure: true })
    expect(plan.collections[0]?.throughput?.source).toBe('measured')
    expect(plan.collections[0]?.throughput?.textsPerSecond).toBeGreaterThan(0)
    expect(w.encoder.encodedTexts).toBeGreaterThanOrEqual(64)
    expect(w.encoder.closed).toBe(w.encoder.opened)
    expect(plan.summary.timeKnown).toBe(true)
  })
})
