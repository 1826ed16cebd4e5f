import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { setControl, Throttle, type ThrottleReason } from '../../../src/apply/throttle.js'
import { makePlan } from '../../../src/plan/index.js'
import type { ThrottleControl } from '../../../src/store/adapter.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'speed')

describe('Throttle', () => {
  it('keeps writes at or under --max-rate', async () => {
    const reasons: (ThrottleReason | null)[] = []
    const t = new Throttle({ maxRate: 2000 }, {}, (r) => reasons.push(r), 10)
    const started = performance.now()
    for (let i = 0; i < 10; i++) await t.beforeBatch(100)
    // 1,000 rows at 2,000 rows/s: the last batch may start once 900 rows' worth of time passed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(440)
    expect(reasons[0]).toEqual({ kind: 'rate', rate: 2000 })
  })

  it('waits while paused, lagging or loaded, and says why each time the reason changes', async () => {
    const lags = [5000, 5000, 100]
    const loads = [9, 0.5]
    const controls: (ThrottleControl | undefined)[] = [{ paused: true, at: 't', by: 'ops@box' }, undefined]
    const reasons: (ThrottleReason | null)[] = []
    const t = new Throttle(
      { maxReplicaLagMs: 1000, maxLoad: 4 },
      {
        control: async () => (controls.length > 1 ? controls.shift() : controls[0]),
        replicaLagMs: async () => (lags.length > 1 ? lags.shift()! : lags[0]!),
        load: () => (loads.length > 1 ? loads.shift()! : loads[0]!),
      },
      (r) => reasons.push(r),
      1,
    )
    await t.beforeBatch(10)
    expect(reasons).toEqual([
      { kind: 'paused', by: 'ops@box' },
      { kind: 'replica-lag', ms: 5000, max: 1000 },
      { kind: 'load', load: 9, max: 4 },
      null,
    ])
    expect(t.waited.paused).toBeGreaterThan(0)
    expect(t.waited['replica-lag']).toBeGreaterThan(0)
  })
})

describe('apply with throttling, pause and resume', () => {
  it('reports replica lag in the progress, then completes once the replicas catch up', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(12))
    let probes = 0
    const result = await applyPlan(w.ctx, await makePlan(w.ctx), {
      retryBaseMs: 1,
      batchSize: 4,
      throttle: { limits: { maxReplicaLagMs: 500 }, probes: { replicaLagMs: async () => (probes++ < 3 ? 2500 : 0) }, pollMs: 1 },
    })
    expect(result.collections[0]?.rowsWritten).toBe(12)
    const logs = w.events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''))
    expect(logs.some((m) => /docs: throttled: replica lag 2\.5s above --max-replica-lag 0\.5s/.test(m))).toBe(true)
    expect(logs.some((m) => m.endsWith('docs: running at full speed again'))).toBe(true)
  })

  it('pauses through the journal in the store, keeps the control record across journal saves, and resumes', async () => {
    const adapter = new MemoryAdapter()
    let paused = false
    const w = memoryWorld({
      profiles: [testProfile('speed')],
      collections: [docs],
      adapter,
      encoder: {
        // Another process pauses after the first page, and resumes a little later with a new rate.
        onBatch: async (i) => {
          if (i !== 1 || paused) return
          paused = true
          await setControl(adapter, docs, { paused: true }, 'ops@elsewhere')
          setTimeout(() => void setControl(adapter, docs, { paused: false, maxRate: 100_000 }, 'ops@elsewhere'), 50)
        },
      },
    })
    adapter.seed('docs', rows(12))
    const result = await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4, throttle: { pollMs: 0 } })
    expect(result.collections[0]?.rowsWritten).toBe(12)
    const logs = w.events.flatMap((e) => (e.type === 'log' ? [e.message] : []))
    expect(logs.some((m) => m.includes('throttled: paused by ops@elsewhere (`embedform resume` continues)'))).toBe(true)
    // Journal saves between steps kept the operator's control record instead of overwriting it.
    const saved = adapter.journalLog.filter((j) => j?.control)
    expect(saved.at(-1)?.control).toMatchObject({ paused: false, maxRate: 100_000, by: 'ops@elsewhere' })
  })

  it('refuses to pause a collection with no apply in flight', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(2))
    await expect(setControl(w.adapter, docs, { paused: true }, 'me')).rejects.toMatchObject({ code: 'E_NO_APPLY_IN_FLIGHT', kind: 'input' })
  })

  it('refuses --max-replica-lag on a store that cannot report lag', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(2))
    await expect(applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, throttle: { limits: { maxReplicaLagMs: 100 } } })).rejects.toMatchObject({ code: 'E_THROTTLE_LAG_UNSUPPORTED' })
  })
})

describe('apply --hold', () => {
  it('stops before the cutover with the candidate verified and caught up, then the next apply switches', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(8))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    w.ctx.config.profiles.speed = testProfile('speed', { model: { source: 'builtin:other' } })
    const plan = await makePlan(w.ctx)
    const held = await applyPlan(w.ctx, plan, { retryBaseMs: 1, hold: true })
    expect(held.collections[0]).toMatchObject({ held: true, generation: 1, rowsWritten: 8 })
    let state = await w.adapter.inspect(docs)
    expect(state.live).toBe(1)
    expect(state.journal).toMatchObject({ planId: plan.id, held: { step: 'docs/g2/cutover' } })
    expect(state.journal?.done).not.toContain('docs/g2/cutover')
    expect(state.lock).toBeNull()

    // The application writes while the cutover is held; holding again catches the candidate up.
    w.adapter.upsertRow('docs', 3, 'rewritten while held')
    const again = await applyPlan(w.ctx, plan, { retryBaseMs: 1, hold: true })
    expect(again.collections[0]).toMatchObject({ held: true, rowsWritten: 1 })
    expect((await w.adapter.freshness(docs, 2)).fresh).toBe(8)

    const done = await applyPlan(w.ctx, plan, { retryBaseMs: 1 })
    expect(done.collections[0]?.ran).toEqual(['docs/g2/cutover', 'docs/g2/retain-previous'])
    state = await w.adapter.inspect(docs)
    expect(state).toMatchObject({ live: 2, journal: null })
  })
})
