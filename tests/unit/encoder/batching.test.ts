import { describe, expect, it } from 'vitest'
import { BatchBuffers, BufferPool, paddingOf, planBatches, restoreOrder } from '../../../src/encoder/batching.js'

describe('planBatches / restoreOrder', () => {
  it('groups texts of similar length and restores the original order', () => {
    const lengths = [9, 2, 7, 2, 5, 1, 8]
    const plan = planBatches(lengths, { maxBatch: 3, tokenBudget: Number.POSITIVE_INFINITY })
    expect(plan).toEqual([
      [5, 1, 3],
      [4, 2, 6],
      [0],
    ])
    // Each "result" is the input index tagged, so the restored order must be 0..n-1.
    const results = plan.map((batch) => batch.map((i) => `text${i}`))
    expect(restoreOrder(plan, results, lengths.length)).toEqual(lengths.map((_, i) => `text${i}`))
  })

  it('cuts batches by padded tokens: short texts share big batches, long ones get small ones', () => {
    const lengths = [4, 4, 4, 4, 4, 4, 100, 100, 100, 30, 30]
    const plan = planBatches(lengths, { maxBatch: 8, tokenBudget: 200 })
    // 6 × 4 = 24 tokens; 2 × 30 = 60; 100-token texts fit two per 200-token batch.
    expect(plan).toEqual([[0, 1, 2, 3, 4, 5], [9, 10], [6, 7], [8]])
    for (const batch of plan) {
      const longest = Math.max(...batch.map((i) => lengths[i] ?? 0))
      expect(batch.length * longest).toBeLessThanOrEqual(200)
    }
    expect(paddingOf(lengths, plan)).toEqual({ realTokens: 384, paddedTokens: 384 })
  })

  it('keeps the count as an upper bound and gives a text longer than the budget a batch of its own', () => {
    expect(planBatches([1, 1, 1, 1, 1], { maxBatch: 2, tokenBudget: 1000 })).toEqual([[0, 1], [2, 3], [4]])
    expect(planBatches([500, 3], { maxBatch: 8, tokenBudget: 64 })).toEqual([[1], [0]])
  })

  it('reports padding waste of count batching over mixed lengths', () => {
    const lengths = [10, 2, 10, 2]
    const plan = planBatches(lengths, { maxBatch: 4, tokenBudget: Number.POSITIVE_INFINITY })
    expect(paddingOf(lengths, plan)).toEqual({ realTokens: 24, paddedTokens: 40 })
  })

  it('handles an empty input', () => {
    expect(planBatches([], { maxBatch: 4, tokenBudget: 100 })).toEqual([])
    expect(restoreOrder([], [], 0)).toEqual([])
  })
})

describe('BatchBuffers', () => {
  it('pads to the longest row of the batch with mask 0 and keeps segment ids', () => {
    const buffers = new BatchBuffers()
    const b = buffers.fill(
      [
        { ids: [101, 7, 102] },
        { ids: [101, 8, 9, 102], typeIds: [0, 0, 1, 1] },
      ],
      0,
    )
    expect(b.seqLen).toBe(4)
    expect([...b.inputIds]).toEqual([101n, 7n, 102n, 0n, 101n, 8n, 9n, 102n])
    expect([...b.attentionMask]).toEqual([1n, 1n, 1n, 0n, 1n, 1n, 1n, 1n])
    expect([...b.tokenTypeIds]).toEqual([0n, 0n, 0n, 0n, 0n, 0n, 1n, 1n])
    expect([...b.lengths]).toEqual([3, 4])
  })

  it('reuses its memory for a smaller batch and clears what the previous batch left', () => {
    const buffers = new BatchBuffers()
    const first = buffers.fill([{ ids: [1, 2, 3, 4, 5] }, { ids: [6, 7, 8, 9, 10] }], 0)
    const second = buffers.fill([{ ids: [1] }, { ids: [2, 3] }], 0)
    expect(second.inputIds.buffer).toBe(first.inputIds.buffer)
    expect([...second.inputIds]).toEqual([1n, 0n, 2n, 3n])
    expect([...second.attentionMask]).toEqual([1n, 0n, 1n, 1n])
  })
})

describe('BufferPool', () => {
  it('hands concurrent holders distinct buffers and reuses released ones', () => {
    const pool = new BufferPool()
    const a = pool.acquire()
    const b = pool.acquire()
    expect(a).not.toBe(b)
    pool.release(a, b)
    expect(pool.idle).toBe(2)
    const again = [pool.acquire(), pool.acquire()]
    expect(again).toContain(a)
    expect(again).toContain(b)
    expect(pool.idle).toBe(0)
  })
})
