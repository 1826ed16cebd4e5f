import { describe, expect, it } from 'vitest'
import { CUTOVER_ATTEMPTS, switchGeneration } from '../../../src/apply/switch.js'
import type { Collection } from '../../../src/core/types.js'
import type { Encoder } from '../../../src/encoder/types.js'
import type { CutoverOptions, CutoverResult, StoreAdapter } from '../../../src/store/adapter.js'

const collection: Collection = { name: 'docs', store: 'main', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }
const encoder = { encode: async (texts: string[]) => texts.map(() => new Float32Array(4)) } as unknown as Encoder

/** An adapter whose cutover reports the pending counts given, one per attempt, then succeeds. */
function adapterReporting(pendings: number[]) {
  const holds: number[] = []
  const adapter = {
    cutover: async (_c: Collection, _g: number, opts: CutoverOptions): Promise<CutoverResult> => {
      holds.push(opts.maxHeldRows)
      const pending = pendings.shift()
      if (pending === undefined) return { status: 'done', heldMs: 5, swapMs: 1, embeddedWhileHeld: 0, leftStale: 0 }
      return { status: 'behind', pending, heldMs: 1 }
    },
  } as unknown as StoreAdapter
  return { adapter, holds }
}

const args = (adapter: StoreAdapter, rate: number) => ({
  adapter,
  collection,
  generation: 2,
  encoder,
  zeroVectors: 'keep' as const,
  maxHoldMs: 1000,
  acceptStale: false,
  catchUp: async () => rate,
  onBehind: () => undefined,
})

describe('switchGeneration', () => {
  it('retries while the pending count shrinks, sizing the hold from the measured catch-up rate', async () => {
    const { adapter, holds } = adapterReporting([5000, 3000, 1000, 400])
    const res = await switchGeneration(args(adapter, 300))
    expect(res.status).toBe('done')
    expect(holds).toEqual([300, 300, 300, 300, 300])
  })

  it('gives up after three attempts that did not shrink what is pending, saying how long a hold would embed it', async () => {
    const { adapter, holds } = adapterReporting(Array.from({ length: CUTOVER_ATTEMPTS }, (_, i) => 6000 + i))
    const err = await switchGeneration(args(adapter, 300)).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_CATCHUP_OUTPACED' })
    expect(holds).toHaveLength(4)
    expect((err as Error).message).toMatch(/6003 rows still pending after 4 cutover attempts \(catch-up embedded 300 rows\/s\)/)
    expect((err as { hint?: string }).hint).toMatch(/--max-hold-ms 20010/)
  })
})
