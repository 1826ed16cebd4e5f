import { describe, expect, it } from 'vitest'
import { applyPlan, status } from '../../../src/apply/index.js'
import { classifyRow } from '../../../src/attest/attest.js'
import { renderCollection } from '../../../src/cli/views/status.js'
import { planInsight, renderPlanInsight } from '../../../src/insight/plan-insight.js'
import { makePlan } from '../../../src/plan/index.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'speed')

/** A memory store whose freshness record counts `zero` all-zero vectors in every generation, as pgvector's exact count does. */
async function world(zero: number | undefined) {
  const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
  w.adapter.seed('docs', rows(6))
  await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
  const freshness = w.adapter.freshness.bind(w.adapter)
  w.adapter.freshness = async (c, g) => ({ ...(await freshness(c, g)), ...(zero === undefined ? {} : { zeroVectors: zero }) })
  return w
}

/** A memory store embedded with a `zero_vectors: skip` profile whose encoder makes all-zero vectors of empty text. */
async function skippingWorld() {
  const w = memoryWorld({ profiles: [testProfile('speed', { zeroVectors: 'skip' })], collections: [docs], encoder: { zeroFor: (text) => text === '' } })
  w.adapter.seed('docs', [...rows(4), { key: 5, text: '' }, { key: 6, text: '' }])
  await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
  return w
}

/** The generations table of a rendered status: its header, and g1's value under a column. */
function statusTable(text: string): { header: string; g1: (column: string) => string | undefined } {
  const lines = text.split('\n')
  const header = lines.find((l) => l.includes('GEN'))!
  const g1 = lines.find((l) => /^\s+g1\s/.test(l))!
  return { header, g1: (column) => g1.slice(header.indexOf(column)).split(/\s+/)[0] }
}

describe('zero vectors per generation', () => {
  it('status shows them in a ZERO column and a line naming the generations', async () => {
    const w = await world(2)
    const [c] = (await status(w.ctx)).collections
    const text = renderCollection(c!)
    const table = statusTable(text)
    expect(table.header).toMatch(/QUEUED\s+ZERO\s+INDEX/)
    expect(table.g1('ZERO')).toBe('2')
    expect(text).toContain('zero vectors:   g1 2 (empty or out-of-vocabulary text: no query finds them under cosine)')
    expect(text).toContain('`zero_vectors: skip` in the profile stores no vector for them instead')
  })

  it('status shows skipped rows of a zero_vectors: skip generation in a SKIPPED column, not as missing, in text and JSON', async () => {
    const w = await skippingWorld()
    const [c] = (await status(w.ctx)).collections
    expect(c!.generations[0]).toMatchObject({ populated: 4, missing: 0, skipped: 2, freshness: { fresh: 4, missing: 0, skipped: 2 } })
    const text = renderCollection(c!)
    const table = statusTable(text)
    expect(table.header).toMatch(/MISSING\s+SKIPPED\s+UNVERIFIED/)
    expect(table.g1('SKIPPED')).toBe('2')
    expect(text).toContain('skipped:        g1 2 (zero_vectors: skip')
    expect(text).not.toContain('live rows have no current vector')
    expect(w.adapter.vectorOf('docs', 1, 5)).toBeNull()
    expect(w.adapter.vectorOf('docs', 1, 1)).toBeInstanceOf(Float32Array)
  })

  it("status shows '-' where the store does not count them, and no zero line", async () => {
    const w = await world(undefined)
    const text = renderCollection((await status(w.ctx)).collections[0]!)
    expect(text).not.toContain('zero vectors:')
    const header = text.split('\n').find((l) => l.includes('GEN'))!
    const g1 = text.split('\n').find((l) => /^\s+g1\s/.test(l))!
    expect(g1.slice(header.indexOf('ZERO')).split(/\s+/)[0]).toBe('-')
  })

  it('plan lists each generation holding zero vectors, also when there is nothing to change', async () => {
    const w = await world(3)
    const plan = await makePlan(w.ctx)
    const insight = await planInsight(w.ctx, plan)
    expect(insight.zeroVectors).toEqual([{ collection: 'docs', generation: 1, status: 'live', profile: 'speed', zeroVectors: 'keep', count: 3, skipped: 0 }])
    expect(renderPlanInsight(insight)).toContain(
      'zero vectors in collection docs: live g1 has 3 all-zero vectors (empty or out-of-vocabulary text), which no query finds under cosine; `zero_vectors: skip` in profile speed stores no vector for them instead (a new generation)',
    )
    expect((await planInsight((await world(0)).ctx, plan)).zeroVectors).toEqual([])
  })

  it('plan lists the rows a zero_vectors: skip generation stores no vector for, without the hint', async () => {
    const w = await skippingWorld()
    const insight = await planInsight(w.ctx, await makePlan(w.ctx))
    expect(insight.zeroVectors).toEqual([{ collection: 'docs', generation: 1, status: 'live', profile: 'speed', zeroVectors: 'skip', count: 0, skipped: 2 }])
    const text = renderPlanInsight(insight)
    expect(text).toContain('skipped rows in collection docs: live g1 stores no vector for 2 rows (zero_vectors: skip')
    expect(text).not.toContain('all-zero vectors')
  })

  it('switching keep → skip plans a new generation, and the plan embeds with skip from then on', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs], encoder: { zeroFor: (text) => text === '' } })
    w.adapter.seed('docs', [...rows(3), { key: 4, text: '' }])
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
    expect(w.adapter.vectorOf('docs', 1, 4)).toEqual(new Float32Array(8))
    w.ctx.config.profiles.speed = { ...w.ctx.config.profiles.speed!, zeroVectors: 'skip' }
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]).toMatchObject({ change: 'new-generation' })
    await applyPlan(w.ctx, plan, { retryBaseMs: 1, batchSize: 4 })
    expect(w.adapter.vectorOf('docs', 2, 4)).toBeNull()
    expect(await w.adapter.freshness(docs, 2)).toMatchObject({ fresh: 3, missing: 0, skipped: 1 })
  })

  it('attestation counts a skipped row as skipped, not as missing drift', () => {
    expect(classifyRow({ key: 1, text: '', vector: null, record: 'skipped' }, undefined)).toEqual({ verdict: 'skipped', cosine: null })
    expect(classifyRow({ key: 1, text: '', vector: null, record: 'missing' }, undefined)).toEqual({ verdict: 'missing', cosine: null })
  })
})
