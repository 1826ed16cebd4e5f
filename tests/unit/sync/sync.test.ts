import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { makePlan } from '../../../src/plan/index.js'
import { sync, watch } from '../../../src/sync/index.js'
import { fakeVector } from '../../helpers/fake-encoder.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'speed')

async function liveWorld(n = 10) {
  const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
  w.adapter.seed('docs', rows(n))
  await applyPlan(w.ctx, await makePlan(w.ctx, {}), { retryBaseMs: 1, batchSize: 4 })
  return w
}

describe('sync', () => {
  it('embeds exactly the rows inserted and edited after the cutover, with the live profile, and nothing on a second run', async () => {
    const w = await liveWorld()
    w.adapter.upsertRow('docs', 3, 'row three, edited after the cutover')
    w.adapter.upsertRow('docs', 100, 'a row inserted after the cutover')
    const c = w.ctx.config.collections.docs!
    expect(await w.adapter.freshness(c, 1)).toMatchObject({ stale: 1, missing: 1 })

    const res = await sync(w.ctx, 'docs', { batchSize: 4 })
    expect(res.generations).toEqual([expect.objectContaining({ generation: 1, status: 'live', embedded: 2, failed: [] })])
    expect(res.generations[0]!.after).toMatchObject({ stale: 0, missing: 0, queued: 0 })
    expect(w.adapter.vectorOf('docs', 1, 3)).toEqual(fakeVector('row three, edited after the cutover', 8))
    expect(w.adapter.vectorOf('docs', 1, 100)).toEqual(fakeVector('a row inserted after the cutover', 8))
    expect(w.adapter.writeCount('docs', 1, 5)).toBe(1)

    const again = await sync(w.ctx, 'docs')
    expect(again.generations[0]!.embedded).toBe(0)
  })

  it('waits while the load is over --max-load and says why, then embeds', async () => {
    const w = await liveWorld()
    w.adapter.upsertRow('docs', 3, 'row three, edited after the cutover')
    const logs: string[] = []
    w.ctx.onEvent = (e) => {
      if (e.type === 'log') logs.push(e.message)
    }
    let load = 9
    setTimeout(() => (load = 0.5), 150)
    const res = await sync(w.ctx, 'docs', { throttle: { limits: { maxLoad: 2 }, probes: { load: () => load }, pollMs: 20 } })
    expect(res.generations[0]!.embedded).toBe(1)
    expect(logs.join('\n')).toMatch(/sync of docs throttled: .*load/)
  })

  it('refuses a collection with no live generation, saying how to make one', async () => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs] })
    w.adapter.seed('docs', rows(3))
    await expect(sync(w.ctx, 'docs')).rejects.toMatchObject({ code: 'E_NO_LIVE_GENERATION' })
  })
})

describe('sync --watch', () => {
  it('polls a store that cannot push, survives the store failing, and embeds what arrives', async () => {
    const w = await liveWorld()
    const abort = new AbortController()
    const disconnects: unknown[] = []
    let connected = 0
    const running = watch(w.ctx, 'docs', { signal: abort.signal, pollMs: 10, sweepMs: 60_000, maxBackoffMs: 20 }, {
      onDisconnect: (err) => disconnects.push(err),
      onConnected: (pushed) => {
        expect(pushed).toBe(false)
        connected++
      },
    })
    const c = w.ctx.config.collections.docs!
    const until = async (ok: () => Promise<boolean>) => {
      for (let i = 0; i < 500 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10))
    }
    await until(async () => connected > 0)
    w.adapter.failOn('pending', { times: 2 })
    w.adapter.upsertRow('docs', 200, 'written while the store was failing')
    await until(async () => (await w.adapter.freshness(c, 1)).queued === 0)
    w.adapter.upsertRow('docs', 201, 'written after it came back')
    await until(async () => (await w.adapter.freshness(c, 1)).queued === 0)
    abort.abort()
    const summary = await running
    expect(disconnects.length).toBeGreaterThanOrEqual(1)
    expect(connected).toBeGreaterThanOrEqual(2)
    expect(summary).toMatchObject({ collection: 'docs', embedded: 2, failed: 0 })
    expect(summary.reconnects).toBe(disconnects.length)
    expect(w.adapter.vectorOf('docs', 1, 200)).toEqual(fakeVector('written while the store was failing', 8))
    expect(w.adapter.vectorOf('docs', 1, 201)).toEqual(fakeVector('written after it came back', 8))
  })
})
