import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { makePlan } from '../../../src/plan/index.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const opts = { retryBaseMs: 1, batchSize: 3 }
const docs = testCollection('docs', 'speed')

type Crash = { name: string; method: Parameters<MemoryAdapter['failOn']>[0]; after?: number; times?: number; stoppedAt: string }

/** One crash per step of a g1 → g2 migration, thrown by the store in the middle of that step. */
const crashes: Crash[] = [
  { name: 'create-generation', method: 'createGeneration', stoppedAt: 'create-generation' },
  { name: 'backfill, third page', method: 'pending', after: 2, stoppedAt: 'backfill' },
  { name: 'backfill, write after retries', method: 'write', after: 2, times: 4, stoppedAt: 'backfill' },
  { name: 'catch-up', method: 'pending', after: 5, stoppedAt: 'catch-up' },
  { name: 'build-index', method: 'buildIndex', stoppedAt: 'build-index' },
  { name: 'verify', method: 'verify', stoppedAt: 'verify' },
  { name: 'cutover', method: 'cutover', stoppedAt: 'cutover' },
  // Journal writes 11/12 surround the cutover: the 12th fails after readers already switched.
  { name: 'journal write after the cutover', method: 'writeJournal', after: 11, stoppedAt: 'cutover' },
]

async function migratedOnce() {
  const speed = testProfile('speed')
  const w = memoryWorld({ profiles: [speed], collections: [docs] })
  w.adapter.seed('docs', rows(10))
  await applyPlan(w.ctx, await makePlan(w.ctx), opts)
  w.ctx.config.profiles.speed = testProfile('speed', { model: { source: 'builtin:quality' } })
  return w
}

describe('resume after a crash', () => {
  it.each(crashes)('completes after a crash in $name, every row written exactly once', async (crash) => {
    const w = await migratedOnce()
    const plan = await makePlan(w.ctx)
    expect(plan.collections[0]?.to.generation).toBe(2)
    w.adapter.failOn(crash.method, { ...(crash.after === undefined ? {} : { after: crash.after }), ...(crash.times === undefined ? {} : { times: crash.times }) })

    await expect(applyPlan(w.ctx, plan, opts)).rejects.toThrow()
    const stopped = await w.adapter.inspect(docs)
    expect(stopped.journal?.planId).toBe(plan.id)
    expect(stopped.journal?.current).toBe(`docs/g2/${crash.stoppedAt}`)
    expect(stopped.lock).toBeNull()

    const result = await applyPlan(w.ctx, plan, opts)
    expect(result.collections[0]?.ran[0]).toBe(`docs/g2/${crash.stoppedAt}`)
    const after = await w.adapter.inspect(docs)
    expect(after).toMatchObject({ live: 2, journal: null, lock: null })
    expect(after.generations.map((g) => [g.id, g.status])).toEqual([[1, 'retained'], [2, 'live']])
    expect(w.adapter.writeCounts('docs', 2)).toEqual(Array(10).fill(1))
    expect((await makePlan(w.ctx)).collections[0]?.change).toBe('none')
  })

  it('resumes a multi-collection plan after the first collection finished', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs, testCollection('notes', 'speed')] })
    w.adapter.seed('docs', rows(6))
    w.adapter.seed('notes', rows(6, 'note'))
    const plan = await makePlan(w.ctx)
    // docs takes 13 journal writes (6 steps, then the clear); the 16th starts notes' backfill.
    w.adapter.failOn('writeJournal', { after: 15 })
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toMatchObject({ code: 'E_SIMULATED' })
    expect((await w.adapter.inspect(docs)).live).toBe(1)
    const result = await applyPlan(w.ctx, plan, opts)
    expect(result.collections.map((c) => [c.collection, c.ran.length > 0])).toEqual([['docs', false], ['notes', true]])
    expect(w.adapter.writeCounts('notes', 1)).toEqual(Array(6).fill(1))
    expect((await w.adapter.inspect(testCollection('notes', 'speed'))).live).toBe(1)
  })
})
