import { describe, expect, it } from 'vitest'
import { applyPlan } from '../../../src/apply/index.js'
import { makePlan } from '../../../src/plan/index.js'
import type { AdapterCapabilities, VectorRow, WriteOptions } from '../../../src/store/adapter.js'
import { batchRows, DEFAULT_BATCH_ROWS } from '../../../src/store/batch-rows.js'
import { sync } from '../../../src/sync/index.js'
import type { Collection } from '../../../src/core/types.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

const caps: AdapterCapabilities = { concurrentIndex: true, hybridSearch: false, inPlaceIndexRebuild: true, maxIndexDimensions: { vector: 2000, halfvec: 4000 } }

describe('batchRows', () => {
  it('takes the user’s size over the store’s', () => {
    expect(batchRows(7, { ...caps, batch: { rows: 4000, vectorBytes: 6 << 20 } }, 384)).toBe(7)
  })

  it('is 1,000 rows for a store that declares no batch', () => {
    expect(batchRows(undefined, caps, 384)).toBe(DEFAULT_BATCH_ROWS)
    expect(DEFAULT_BATCH_ROWS).toBe(1000)
  })

  it('gives wide vectors fewer rows: at most the store’s rows and its bytes of float32 vectors', () => {
    const pg = { ...caps, batch: { rows: 4000, vectorBytes: 6 * 1024 * 1024 } }
    expect(batchRows(undefined, pg, 32)).toBe(4000)
    expect(batchRows(undefined, pg, 384)).toBe(4000)
    expect(batchRows(undefined, pg, 1536)).toBe(1024)
    expect(batchRows(undefined, pg, 3072)).toBe(512)
    // A single vector larger than the budget still goes, one row at a time.
    expect(batchRows(undefined, { ...caps, batch: { rows: 10, vectorBytes: 16 } }, 384)).toBe(1)
  })
})

/** A MemoryAdapter declaring a batch, recording the size of every write. */
class BatchingAdapter extends MemoryAdapter {
  override readonly capabilities: AdapterCapabilities
  readonly writeSizes: number[] = []
  constructor(batch: AdapterCapabilities['batch']) {
    super()
    this.capabilities = { ...caps, batch }
  }
  override async write(c: Collection, generation: number, r: VectorRow[], opts?: WriteOptions): Promise<void> {
    this.writeSizes.push(r.length)
    return super.write(c, generation, r, opts)
  }
}

describe('apply and sync batch as the store declares', () => {
  const docs = testCollection('docs', 'speed')
  const world = (adapter: BatchingAdapter) => {
    const w = memoryWorld({ profiles: [testProfile('speed')], collections: [docs], adapter })
    w.adapter.seed('docs', rows(10))
    return w
  }

  it('apply writes the store’s batch when no --batch-size is given', async () => {
    const adapter = new BatchingAdapter({ rows: 3, vectorBytes: 1 << 20 })
    const w = world(adapter)
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    expect(adapter.writeSizes).toEqual([3, 3, 3, 1])
  })

  it('the byte budget sets the rows for the profile’s dimensions (8 here)', async () => {
    const adapter = new BatchingAdapter({ rows: 4000, vectorBytes: 2 * 8 * 4 })
    const w = world(adapter)
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1 })
    expect(adapter.writeSizes).toEqual([2, 2, 2, 2, 2])
  })

  it('--batch-size overrides it, and sync follows the store too', async () => {
    const adapter = new BatchingAdapter({ rows: 3, vectorBytes: 1 << 20 })
    const w = world(adapter)
    await applyPlan(w.ctx, await makePlan(w.ctx), { retryBaseMs: 1, batchSize: 5 })
    expect(adapter.writeSizes).toEqual([5, 5])
    adapter.writeSizes.length = 0
    w.adapter.seed('docs', rows(10).map((r) => ({ ...r, text: `${r.text} edited` })))
    await sync(w.ctx, 'docs', {})
    expect(adapter.writeSizes).toEqual([3, 3, 3, 1])
  })
})
