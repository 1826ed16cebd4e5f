import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import type { Collection } from '../../../src/core/types.js'
import { makePlan } from '../../../src/plan/index.js'
import type { VectorRow } from '../../../src/store/adapter.js'
import { fakeVector } from '../../helpers/fake-encoder.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'speed')
const opts = { retryBaseMs: 1, batchSize: 4 }

function world(n = 10, adapter?: MemoryAdapter) {
  const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs], ...(adapter ? { adapter } : {}) })
  w.adapter.seed('docs', rows(n))
  return w
}

describe('applyPlan', () => {
  it('embeds every row exactly once, cuts over, clears the journal and releases the lock', async () => {
    const w = world(10)
    const plan = await makePlan(w.ctx)
    const result = await applyPlan(w.ctx, plan, opts)
    expect(result.collections[0]).toMatchObject({ collection: 'docs', change: 'new-generation', generation: 1, rowsWritten: 10, resumed: [] })
    expect(result.collections[0]?.ran).toEqual(plan.collections[0]?.steps.map((s) => s.id))
    expect(w.adapter.writeCounts('docs', 1)).toEqual(Array(10).fill(1))
    const state = await w.adapter.inspect(docs)
    expect(state).toMatchObject({ live: 1, journal: null, lock: null })
    expect(w.adapter.vectorOf('docs', 1, 3)).toEqual(fakeVector(rows(10)[2]?.text ?? '', 8))
    expect(w.encoder).toMatchObject({ opened: 1, closed: 1 })
  })

  it('writes the journal before and after every step', async () => {
    const w = world(4)
    const plan = await makePlan(w.ctx)
    await applyPlan(w.ctx, plan, opts)
    const ids = plan.collections[0]?.steps.map((s) => s.id) ?? []
    const log = w.adapter.journalLog
    expect(log.at(-1)).toBeNull()
    const written = log.slice(0, -1)
    expect(written).toHaveLength(ids.length * 2)
    ids.forEach((id, i) => {
      expect(written[2 * i]).toMatchObject({ planId: plan.id, current: id, done: ids.slice(0, i) })
      expect(written[2 * i + 1]?.current).toBeUndefined()
      expect(written[2 * i + 1]?.done).toEqual(ids.slice(0, i + 1))
    })
    expect(written.at(-1)?.stats.rowsWritten).toBe(4)
  })

  it('emits step-start, progress with done/total rows, and step-end', async () => {
    const w = world(10)
    const plan = await makePlan(w.ctx)
    await applyPlan(w.ctx, plan, opts)
    const backfill = 'docs/g1/backfill'
    expect(w.events.find((e) => e.type === 'step-start' && e.step === backfill)).toMatchObject({ total: 10 })
    const progress = w.events.filter((e) => e.type === 'progress' && e.step === backfill)
    expect(progress.map((e) => (e.type === 'progress' ? e.done : -1))).toEqual([0, 4, 8, 10])
    expect(progress.every((e) => e.type === 'progress' && e.total === 10)).toBe(true)
    expect(w.events.filter((e) => e.type === 'step-end')).toHaveLength(plan.collections[0]?.steps.length ?? -1)
  })

  it('refuses a saved plan whose collection changed since it was made', async () => {
    const w = world(4)
    const stale = await makePlan(w.ctx)
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    await expect(applyPlan(w.ctx, stale, opts)).rejects.toMatchObject({ code: 'E_PLAN_STALE', kind: 'input', message: expect.stringContaining('"docs"') })
  })

  it('refuses while another plan is in progress on the collection', async () => {
    const w = world(8)
    const first = await makePlan(w.ctx)
    w.adapter.failOn('buildIndex')
    await expect(applyPlan(w.ctx, first, opts)).rejects.toMatchObject({ code: 'E_SIMULATED' })
    const second = await makePlan(w.ctx)
    expect(second.collections[0]?.warnings[0]).toContain(`apply of plan ${first.id} is in progress`)
    await expect(applyPlan(w.ctx, second, opts)).rejects.toMatchObject({ code: 'E_APPLY_IN_PROGRESS', message: expect.stringContaining(first.id) })
  })

  it('fails fast when the migration lock is held', async () => {
    const w = world(4)
    const plan = await makePlan(w.ctx)
    const release = await w.adapter.lock(docs, 'someone else')
    await expect(applyPlan(w.ctx, plan, opts)).rejects.toMatchObject({ code: 'E_LOCK_HELD' })
    await release()
    await expect(applyPlan(w.ctx, plan, opts)).resolves.toMatchObject({ planId: plan.id })
  })

  it('checks encoder dimensions before touching the store', async () => {
    const adapter = new MemoryAdapter()
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs], adapter, encoder: { dimensions: 4 } })
    w.adapter.seed('docs', rows(4))
    await expect(applyPlan(w.ctx, await makePlan(w.ctx), opts)).rejects.toMatchObject({ code: 'E_DIMENSIONS', kind: 'input', location: { path: 'profiles.speed.dimensions' } })
    expect(await adapter.inspect(docs)).toMatchObject({ generations: [], journal: null, lock: null })
    expect(w.encoder.closed).toBe(1)
  })

  it('retries a failing write with backoff and then succeeds', async () => {
    const w = world(8)
    w.adapter.failOn('write', { after: 1, times: 2 })
    const result = await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    expect(result.collections[0]?.rowsWritten).toBe(8)
    expect(w.events.filter((e) => e.type === 'log' && e.level === 'warn' && e.message.includes('retry'))).toHaveLength(2)
    expect(w.adapter.writeCounts('docs', 1)).toEqual(Array(8).fill(1))
  })

  it('gives up after 3 retries with an error that says progress is kept', async () => {
    const w = world(8)
    w.adapter.failOn('write', { after: 1, times: 4 })
    const err = await applyPlan(w.ctx, await makePlan(w.ctx), opts).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_WRITE_FAILED', kind: 'failure', hint: expect.stringContaining('resume') })
    expect((await w.adapter.inspect(docs)).journal).toMatchObject({ current: 'docs/g1/backfill', stats: { rowsWritten: 4 }, failed: { code: 'E_WRITE_FAILED' } })
  })

  it('overlaps encoding of the next page with the write of the current one, one write at a time', async () => {
    class SlowWrites extends MemoryAdapter {
      inflight = 0
      maxInflight = 0
      override async write(c: Collection, g: number, r: VectorRow[]): Promise<void> {
        this.inflight++
        this.maxInflight = Math.max(this.maxInflight, this.inflight)
        await new Promise((res) => setTimeout(res, 15))
        await super.write(c, g, r)
        this.inflight--
      }
    }
    const adapter = new SlowWrites()
    let encodedDuringWrite = 0
    const w = memoryWorld({
      profiles: [testProfile('speed')],
      collections: [docs],
      adapter,
      encoder: { onBatch: () => void (encodedDuringWrite += adapter.inflight > 0 ? 1 : 0) },
    })
    adapter.seed('docs', rows(20))
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    expect(adapter.maxInflight).toBe(1)
    expect(encodedDuringWrite).toBeGreaterThanOrEqual(3)
    expect(adapter.writeCounts('docs', 1)).toEqual(Array(20).fill(1))
  })

  it('stops on abort between batches and resumes later', async () => {
    const w = world(12)
    const plan = await makePlan(w.ctx)
    const abort = new AbortController()
    w.ctx.onEvent = (e) => {
      if (e.type === 'progress' && e.done >= 4) abort.abort()
    }
    await expect(applyPlan(w.ctx, plan, { ...opts, signal: abort.signal })).rejects.toMatchObject({ code: 'E_ABORTED' })
    expect((await w.adapter.inspect(docs)).live).toBeNull()
    const resumed = await applyPlan(w.ctx, plan, opts)
    expect(resumed.collections[0]?.resumed).toEqual(['docs/g1/create-generation'])
    expect(w.adapter.writeCounts('docs', 1)).toEqual(Array(12).fill(1))
  })
})

describe('catch-up', () => {
  it('embeds rows inserted and changed during the backfill before the cutover', async () => {
    const w = world(12)
    w.adapter.beforePage = (_c, phase, page) => {
      if (phase === 'backfill' && page === 1) {
        w.adapter.upsertRow('docs', 100, 'a row inserted during the backfill')
        w.adapter.upsertRow('docs', 1, 'row one, edited after it was embedded')
      }
    }
    const result = await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    expect(result.collections[0]?.catchUpPasses).toBeGreaterThanOrEqual(1)
    expect(w.adapter.vectorOf('docs', 1, 100)).toEqual(fakeVector('a row inserted during the backfill', 8))
    expect(w.adapter.vectorOf('docs', 1, 1)).toEqual(fakeVector('row one, edited after it was embedded', 8))
    expect(w.adapter.writeCount('docs', 1, 1)).toBe(2)
    expect(w.adapter.writeCounts('docs', 1).filter((n) => n !== 1)).toEqual([2])
    expect((await w.adapter.verify(docs, 1)).ok).toBe(true)
  })

  it('embeds writes that arrive during the index build, right before the cutover', async () => {
    class WritesDuringBuild extends MemoryAdapter {
      override async buildIndex(c: Collection, g: number, p?: (d: number, t: number) => void, s?: Parameters<MemoryAdapter['buildIndex']>[3]): Promise<void> {
        this.upsertRow('docs', 200, 'written while the index was being built')
        return super.buildIndex(c, g, p, s)
      }
    }
    const w = world(6, new WritesDuringBuild())
    await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    expect(w.adapter.vectorOf('docs', 1, 200)).toEqual(fakeVector('written while the index was being built', 8))
  })

  it('completes under a writer that never pauses: the cutover embeds the last rows while it holds writes', async () => {
    const w = world(20)
    let next = 1000
    w.adapter.beforePage = (_c, phase, page) => {
      if (phase === 'catchup' && page === 0) for (let i = 0; i < 3; i++) w.adapter.upsertRow('docs', next++, `busy write ${next}`)
    }
    const result = await applyPlan(w.ctx, await makePlan(w.ctx), opts)
    w.adapter.beforePage = undefined
    expect(result.collections[0]).toMatchObject({ generation: 1 })
    expect((await w.adapter.inspect(docs)).live).toBe(1)
    expect(await w.adapter.freshness(docs, 1)).toMatchObject({ stale: 0, missing: 0 })
  })

  it('fails clearly when more rows arrive between holds than a hold may embed, before anything readers see changes', async () => {
    const w = world(4)
    let next = 1000
    // Rows land between the last catch-up pass and every hold: more than a 1 ms hold may embed.
    const cutover = w.adapter.cutover.bind(w.adapter)
    w.adapter.cutover = async (c, g, o) => {
      for (let i = 0; i < 500; i++) w.adapter.upsertRow('docs', next++, `busy write ${next}`)
      return cutover(c, g, o)
    }
    await expect(applyPlan(w.ctx, await makePlan(w.ctx), { ...opts, maxHoldMs: 1 })).rejects.toMatchObject({ code: 'E_CATCHUP_OUTPACED' })
    expect((await w.adapter.inspect(docs)).live).toBeNull()
  })
})
