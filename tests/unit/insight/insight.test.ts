import { describe, expect, it } from 'vitest'
import { attestLive, checkAdoption, classifyRow } from '../../../src/attest/attest.js'
import { liveDrift } from '../../../src/attest/drift.js'
import { applyPlan } from '../../../src/apply/index.js'
import { renderPlanMarkdown } from '../../../src/insight/markdown.js'
import { closeness, nearestWithin, neighbourOverlap } from '../../../src/insight/neighbours.js'
import { samplePlan } from '../../../src/insight/sample-plan.js'
import { tokenStats } from '../../../src/insight/tokens.js'
import { makePlan } from '../../../src/plan/index.js'
import { fakeVector } from '../../helpers/fake-encoder.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const words = async () => (text: string) => text.split(/\s+/).filter(Boolean).length
const v = (...xs: number[]) => Float32Array.from(xs)

describe('neighbour overlap', () => {
  it('ranks by closeness under each metric', () => {
    expect(closeness('cosine', v(1, 0), v(2, 0))).toBeCloseTo(1)
    expect(closeness('ip', v(1, 0), v(2, 0))).toBe(2)
    expect(closeness('l2', v(0, 0), v(3, 4))).toBe(-5)
    expect(nearestWithin([v(0), v(1), v(3), v(10)], 'l2', 2)).toEqual([
      [1, 2],
      [0, 2],
      [1, 0],
      [2, 1],
    ])
  })

  it('is 1 for the same space and drops when the neighbourhoods change', () => {
    const a = Array.from({ length: 30 }, (_, i) => fakeVector(`row ${i}`, 8))
    expect(neighbourOverlap({ vectors: a, metric: 'cosine' }, { vectors: a, metric: 'cosine' }, 5)).toEqual({ k: 5, overlap: 1, rows: 30 })
    const b = Array.from({ length: 30 }, (_, i) => fakeVector(`other ${i}`, 8))
    expect(neighbourOverlap({ vectors: a, metric: 'cosine' }, { vectors: b, metric: 'cosine' }, 5).overlap).toBeLessThan(0.5)
  })
})

describe('token statistics', () => {
  it('reports nearest-rank percentiles and the share max_tokens truncates', () => {
    const s = tokenStats([5, 1, 9, 3, 7, 2, 8, 4, 6, 100], 8)
    expect(s).toEqual({ texts: 10, p50: 5, p95: 100, max: 100, maxTokens: 8, truncated: 2, truncatedShare: 0.2 })
  })
})

describe('plan --sample (library)', () => {
  it('measures, counts tokens, prices storage and compares neighbours, without writing', async () => {
    const docs = testCollection('docs', 'speed')
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(40))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    w.ctx.config.profiles.speed = testProfile('speed', { prefixes: { query: '', document: 'passage: ' }, maxTokens: 6 })
    const plan = await makePlan(w.ctx)
    const writes = w.adapter.journalLog.length
    const report = await samplePlan(w.ctx, plan, { rows: 25, k: 5, openTokenCounter: words })
    const s = report.collections[0]!
    expect(s).toMatchObject({ collection: 'docs', sampled: 25, eta: { rows: 40 }, storage: { rows: 40, bytesPerRow: 8 * 4 + 8, bytes: 40 * 40 } })
    expect(s.tokens).toMatchObject({ texts: 25, p50: 6, maxTokens: 6, truncated: 0 })
    expect(s.overlap).toMatchObject({ k: 5, rows: 25, liveGeneration: 1 })
    expect(s.overlap!.overlap).toBeLessThan(1)
    expect(s.throughput.texts).toBe(25)
    expect(w.adapter.journalLog.length).toBe(writes)
    expect((await w.adapter.inspect(docs)).generations).toHaveLength(1)
    await expect(samplePlan(w.ctx, plan, { rows: 1 })).rejects.toMatchObject({ code: 'E_SAMPLE_SIZE', kind: 'input' })
  })
})

describe('attestation', () => {
  it('classifies by the freshness record first, then by cosine', () => {
    expect(classifyRow({ key: 1, text: 't', vector: null, record: 'missing' }, undefined)).toEqual({ verdict: 'missing', cosine: null })
    expect(classifyRow({ key: 1, text: 't', vector: v(1, 0), record: 'stale' }, v(0, 1))).toEqual({ verdict: 'stale', cosine: null })
    expect(classifyRow({ key: 1, text: 't', vector: v(1, 0), record: 'fresh' }, v(1, 0.01)).verdict).toBe('fresh')
    expect(classifyRow({ key: 1, text: 't', vector: v(1, 0), record: 'unverified' }, v(1, 0.1)).verdict).toBe('foreign')
  })

  it('attests adopted vectors against adopted_profile and refuses a profile they do not match', async () => {
    const docs = testCollection('docs', 'speed', { adoptedProfile: 'old' })
    const old = testProfile('old')
    const w = memoryWorld({ profiles: [testProfile('speed'), old], collections: [docs] })
    w.adapter.seed('docs', rows(20))
    // The table was embedded by the "old" profile's model: the fake encoder makes exactly these vectors.
    w.adapter.adoptLive('docs', { dimensions: 8, vector: (text) => fakeVector(text, 8) })
    const ok = await checkAdoption(w.ctx, w.ctx.config.collections.docs!)
    expect(ok).toMatchObject({ generation: 1, profile: 'old', sampled: 20, fresh: 20, foreign: 0, drift: false })

    w.ctx.config.profiles.old = testProfile('old', { prefixes: { query: '', document: 'x ' } })
    await expect(checkAdoption(w.ctx, w.ctx.config.collections.docs!)).rejects.toMatchObject({ code: 'E_ADOPTED_PROFILE_MISMATCH', kind: 'input', location: { path: 'collections.docs.adopted_profile' } })
  })

  it('finds stale rows and drift after the application edits text', async () => {
    const docs = testCollection('docs', 'speed')
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(10))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    expect(await attestLive(w.ctx, docs, 50)).toMatchObject({ sampled: 10, fresh: 10, drift: false })
    w.adapter.upsertRow('docs', 4, 'new text')
    w.adapter.upsertRow('docs', 11, 'a new row')
    expect(await attestLive(w.ctx, docs, 50)).toMatchObject({ sampled: 11, fresh: 9, stale: 1, missing: 1, drift: true })
    const plan = await makePlan(w.ctx)
    expect(await liveDrift(w.ctx, plan)).toEqual([{ collection: 'docs', generation: 1, stale: 1, missing: 1, queued: 2 }])
  })
})

describe('markdown plan', () => {
  it('renders steps, samples, lint findings, drift and the rollback command', async () => {
    const docs = testCollection('docs', 'speed')
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(12))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    w.ctx.config.profiles.speed = testProfile('speed', { dimensions: 4 })
    const plan = await makePlan(w.ctx)
    const samples = await samplePlan(w.ctx, plan, { rows: 12, openTokenCounter: words })
    const md = renderPlanMarkdown(plan, {
      samples,
      lint: [{ rule: 'no-quality-gate', severity: 'notice', collection: 'docs', message: 'profile speed has no quality gate' }],
      drift: [],
    })
    expect(md).toMatch(/^## embedform plan\n\n\*\*Plan: 1 new generation/)
    expect(md).toContain('| step | rows | time | storage | |')
    expect(md).toContain('**readers switch here**')
    expect(md).toContain('**Sampled (12 rows, nothing written):**')
    expect(md).toContain('- **notice** `no-quality-gate`: profile speed has no quality gate')
    expect(md).toContain('`embedform rollback --collection docs --to g1`')
  })
})
