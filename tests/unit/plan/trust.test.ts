import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { EmbedformErrors } from '../../../src/core/errors.js'
import { makePlan } from '../../../src/plan/index.js'
import { planDifferences, verifySavedPlan } from '../../../src/plan/trust.js'
import type { Plan } from '../../../src/plan/types.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const opts = { retryBaseMs: 1, batchSize: 3 }
const docs = testCollection('docs', 'speed')
const copy = (p: Plan): Plan => structuredClone(p)

async function world() {
  const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
  w.adapter.seed('docs', rows(10))
  return w
}

const messages = (err: unknown) => (err instanceof EmbedformErrors ? err.errors : [err as Error]).map((e) => e.message).join('\n')

describe('verifySavedPlan', () => {
  it('accepts the plan it would make now, and nothing else', async () => {
    const w = await world()
    const plan = await makePlan(w.ctx)
    await expect(verifySavedPlan(w.ctx, plan, 'plan.json')).resolves.toBeUndefined()

    const batch = copy(plan)
    batch.collections[0]!.profile.batchSize = 999
    expect(messages(await verifySavedPlan(w.ctx, batch, 'plan.json').catch((e: unknown) => e))).toMatch(/its profile "speed" is not what the configuration says/)

    const reordered = copy(plan)
    const steps = reordered.collections[0]!.steps
    ;[steps[1], steps[2]] = [steps[2]!, steps[1]!]
    expect(messages(await verifySavedPlan(w.ctx, reordered, 'plan.json').catch((e: unknown) => e))).toMatch(/its steps differ from the ones the live state needs \(order\)/)
  })

  it('names every difference of a collection plan', async () => {
    const w = await world()
    const now = (await makePlan(w.ctx)).collections[0]!
    const saved = structuredClone(now)
    saved.change = 'cutover-retained'
    saved.to.fingerprint = 'f'.repeat(64)
    expect(planDifferences(saved, now)).toEqual([
      expect.stringMatching(/^its profile has fingerprint [0-9a-f]{8}…, but the plan claims ffffffff…$/),
      'it plans "cutover-retained", the live state needs "new-generation"',
      expect.stringMatching(/^its target is g1 \(speed, fingerprint ffffffff\), the live state needs g1 \(speed, fingerprint [0-9a-f]{8}\)$/),
    ])
  })

  it('checks a plan whose apply is in flight against the journal and the configuration', async () => {
    const w = await world()
    const plan = await makePlan(w.ctx)
    w.adapter.failOn('verify')
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toThrow()
    await expect(verifySavedPlan(w.ctx, plan, 'plan.json')).resolves.toBeUndefined()

    const retargeted = copy(plan)
    retargeted.collections[0]!.to.generation = 7
    expect(messages(await verifySavedPlan(w.ctx, retargeted, 'plan.json').catch((e: unknown) => e))).toMatch(/its target is g7, the apply in flight builds g1/)

    const trimmed = copy(plan)
    trimmed.collections[0]!.steps = trimmed.collections[0]!.steps.filter((s) => s.kind !== 'backfill')
    expect(messages(await verifySavedPlan(w.ctx, trimmed, 'plan.json').catch((e: unknown) => e))).toMatch(/already ran step\(s\) the plan does not have: docs\/g1\/backfill/)

    const edited = copy(plan)
    edited.collections[0]!.profile.model.source = 'builtin:other'
    expect(messages(await verifySavedPlan(w.ctx, edited, 'plan.json').catch((e: unknown) => e))).toMatch(/its profile has fingerprint .*, but the plan claims/)
    await expect(applyPlan(w.ctx, plan, opts)).resolves.toMatchObject({ collections: [{ generation: 1 }] })
  })
})
