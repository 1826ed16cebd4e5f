import { describe, expect, it } from 'vitest'
import { applyPlan, type GateRunner } from '../../../src/apply/index.js'
import { makePlan } from '../../../src/plan/index.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'speed')
const opts = { retryBaseMs: 1, batchSize: 4 }
const gate = { metric: 'ndcg@10', queries: 'queries.jsonl', maxDrop: 0.02 }

async function gatedMigration() {
  const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
  w.adapter.seed('docs', rows(8))
  await applyPlan(w.ctx, await makePlan(w.ctx), opts)
  w.ctx.config.profiles.speed = testProfile('speed', { model: { source: 'builtin:quality' }, gate })
  return { w, plan: await makePlan(w.ctx) }
}

const runner = (candidate: number, calls: { live: number; candidate: number }[] = []): GateRunner =>
  async (args) => {
    calls.push({ live: args.liveGeneration.id, candidate: args.candidate.id })
    const live = 0.5
    const drop = live - candidate
    return { passed: drop <= args.gate.maxDrop, metric: args.gate.metric, live, candidate, drop, maxDrop: args.gate.maxDrop, report: `ndcg@10 ${live} → ${candidate}` }
  }

describe('quality gate', () => {
  it('cuts over when the gate passes, comparing the live generation with the candidate', async () => {
    const { w, plan } = await gatedMigration()
    const calls: { live: number; candidate: number }[] = []
    const result = await applyPlan(w.ctx, plan, { ...opts, gate: runner(0.49, calls) })
    expect(calls).toEqual([{ live: 1, candidate: 2 }])
    expect(result.collections[0]?.gate).toMatchObject({ passed: true, candidate: 0.49 })
    expect((await w.adapter.inspect(docs)).live).toBe(2)
  })

  it('stops before the cutover when the gate fails and keeps the work', async () => {
    const { w, plan } = await gatedMigration()
    const err = await applyPlan(w.ctx, plan, { ...opts, gate: runner(0.4) }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_GATE_FAILED', kind: 'failure', message: expect.stringContaining('ndcg@10 0.5 → 0.4') })
    const state = await w.adapter.inspect(docs)
    expect(state.live).toBe(1)
    expect(state.generations.find((g) => g.id === 2)).toMatchObject({ status: 'building', populated: 8 })
    expect(state.journal).toMatchObject({ planId: plan.id, current: 'docs/g2/quality-gate', failed: { code: 'E_GATE_FAILED' } })
    expect(state.lock).toBeNull()

    // --skip-gate resumes from the gate without re-embedding anything.
    const resumed = await applyPlan(w.ctx, plan, { ...opts, skipGate: true })
    expect(resumed.collections[0]?.ran).toEqual(['docs/g2/quality-gate', 'docs/g2/cutover', 'docs/g2/retain-previous'])
    expect(w.events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.includes('skipped'))).toBe(true)
    expect(w.adapter.writeCounts('docs', 2)).toEqual(Array(8).fill(1))
    expect((await w.adapter.inspect(docs)).live).toBe(2)
  })

  it('embeds rows written while the gate ran, right before the cutover', async () => {
    const { w, plan } = await gatedMigration()
    const writesDuringGate: GateRunner = async (args) => {
      w.adapter.upsertRow('docs', 300, 'written while the gate was evaluating')
      return runner(0.5)(args)
    }
    await applyPlan(w.ctx, plan, { ...opts, gate: writesDuringGate })
    expect((await w.adapter.inspect(docs)).live).toBe(2)
    expect(w.adapter.writeCount('docs', 2, 300)).toBe(1)
    expect((await w.adapter.verify(docs, 2)).missing).toBe(0)
  })

  it('explains that a declared gate needs a runner', async () => {
    const { w, plan } = await gatedMigration()
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toMatchObject({ code: 'E_GATE_RUNNER', hint: expect.stringContaining('skip') })
    expect((await w.adapter.inspect(docs)).live).toBe(1)
  })
})
