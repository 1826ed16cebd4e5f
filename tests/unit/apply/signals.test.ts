import { describe, expect, it } from 'vitest'
import { applyPlan, gc, rollback } from '../../../src/apply/index.js'
import type { Collection } from '../../../src/core/types.js'
import { makePlan } from '../../../src/plan/index.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const docs = testCollection('docs', 'a')

describe('rollback stopped by a signal', () => {
  it('stops after the batch in flight, before the switch: live unchanged, lock released, the work done kept; the next rollback finishes', async () => {
    const abort = new AbortController()
    let stopAfter = Number.POSITIVE_INFINITY
    const profiles = ['a', 'b'].map((n) => testProfile(n, { model: { source: `builtin:${n}` } }))
    const w = memoryWorld({ profiles, collections: [docs], encoder: { onBatch: (i) => void (i >= stopAfter && abort.abort()) } })
    w.adapter.seed('docs', rows(20))
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
    ;(w.ctx.config.collections.docs as Collection).profile = 'b'
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
    // Every row edited while g2 is live: all of g1 is stale.
    for (const r of rows(20)) w.adapter.upsertRow('docs', r.key, `${r.text} (edited)`)
    const encoded = w.encoder.encodedTexts
    stopAfter = 1
    const batches = () => w.encoder.encodedTexts - encoded

    const err = await rollback(w.ctx, 'docs', { batchSize: 4, signal: abort.signal }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_INTERRUPTED', kind: 'failure' })
    expect((err as Error).message).toMatch(/^rollback of docs was interrupted before the switch: g2 is still live; the \d+ row\(s\) of g1 re-embedded so far are kept$/)
    expect((err as { hint: string }).hint).toBe('run `embedform rollback docs --to g1` again: it re-embeds only the rows still stale or missing')
    expect(batches()).toBeLessThan(20)
    const state = await w.adapter.inspect(docs)
    expect(state).toMatchObject({ live: 2, lock: null })
    const stale = (await w.adapter.freshness(docs, 1)).stale
    expect(stale).toBeGreaterThan(0)
    expect(stale).toBeLessThan(20)

    const done = await rollback(w.ctx, 'docs', { to: 1, batchSize: 4 })
    expect(done).toMatchObject({ from: 2, to: 1, leftStale: 0 })
    expect(done.reembedded).toBe(stale)
    expect(await w.adapter.freshness(docs, 1)).toMatchObject({ stale: 0, missing: 0 })
  })
})

describe('gc stopped by a signal', () => {
  it('stops after the drop in flight: what it dropped is in the result, the rest stays retained', async () => {
    const profiles = ['a', 'b', 'c', 'd'].map((n) => testProfile(n, { model: { source: `builtin:${n}` } }))
    const w = memoryWorld({ profiles, collections: [docs] })
    w.adapter.seed('docs', rows(4))
    for (const p of ['a', 'b', 'c', 'd']) {
      ;(w.ctx.config.collections.docs as Collection).profile = p
      await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 4 })
    }
    const abort = new AbortController()
    const drop = w.adapter.dropGeneration.bind(w.adapter)
    w.adapter.dropGeneration = async (c, g) => {
      await drop(c, g)
      abort.abort()
    }
    const result = await gc(w.ctx, undefined, { keep: 0, signal: abort.signal })
    expect(result.dropped.map((d) => d.generation)).toEqual([3])
    const state = await w.adapter.inspect(docs)
    expect(state.generations.map((g) => [g.id, g.status])).toEqual([[1, 'retained'], [2, 'retained'], [4, 'live']])
    expect(state.lock).toBeNull()
  })
})
