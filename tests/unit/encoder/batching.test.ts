import { describe, expect, it } from 'vitest'
import { BatchBuffers, BufferPool, planBatches, restoreOrder } from '../../../src/encoder/batching.js'

describe('planBatches / restoreOrder', () => {
  it('groups texts of similar length and restores the original order', () => {
    const lengths = [9, 2, 7, 2, 5, 1, 8]
    const plan = planBatches(lengths, 3)
    expect(plan).toEqual([
      [5, 1, 3],
      [4, 2, 6],
      [0],
    ])
    // Each "result" is the input index tagged, so the restored order must be 0..n-1.
    const results = plan.map((batch) => batch.map((i) => `text${i}`))
    expect(restoreOrder(plan, results, lengths.length)).toEqual(lengths.map((_, i) => `text${i}`))
  })

  it('handles an empty input', () => {
    expect(planBatches([], 4)).toEqual([])
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
