/**
 * One worker of a backfill shared by several processes (this machine or others): it claims a unit
 * of work from the store (a key range on PostgreSQL, a slice of a point-in-time on OpenSearch: the
 * store decides), embeds that unit's rows without a vector, marks it done, and claims the next,
 * until none is left. The lease is renewed while the unit is worked on; a worker that dies stops
 * renewing, and its unit is taken over by another once the lease expires. The backfill reads only
 * rows still without a vector, so a killed worker's unit resumes after the last batch it wrote.
 */
import { failure } from '../core/errors.js'
import type { Collection, ZeroVectorPolicy } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import { pump } from '../apply/pump.js'
import { sleep, throwIfAborted } from '../apply/retry.js'
import type { KeyRange, StoreAdapter } from '../store/adapter.js'

export const DEFAULT_LEASE_MS = 30_000
export const DEFAULT_RANGE_ROWS = 10_000
/** How often a worker with nothing to claim looks whether the others are done. */
const WAIT_POLL_MS = 250

export interface LeasedBackfillArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: number
  encoder: Encoder
  /** The generation's profile setting (vector-rows.ts). */
  zeroVectors: ZeroVectorPolicy
  holder: string
  ttlMs: number
  batchSize: number
  retryBaseMs: number
  signal?: AbortSignal
  /** Rows this worker wrote so far (all its ranges). */
  onWritten?: (written: number) => void
  onRange?: (event: { range: KeyRange; state: 'claimed' | 'done' | 'lost' }) => void
}

export interface LeasedBackfillResult {
  ranges: number
  found: number
}

/** Whether the adapter can share a backfill between workers at all. */
export function supportsLeases(adapter: StoreAdapter): boolean {
  return !!(adapter.planRanges && adapter.leaseRange && adapter.renewLease && adapter.completeLease && adapter.rangesPlanned)
}

export async function leasedBackfill(args: LeasedBackfillArgs): Promise<LeasedBackfillResult> {
  const { adapter, collection: c, generation } = args
  if (!supportsLeases(adapter)) {
    throw failure('E_WORKERS_UNSUPPORTED', `the ${adapter.kind} store cannot share a backfill between workers`, {
      hint: 'run apply without --workers',
    })
  }
  const lease = { holder: args.holder, ttlMs: args.ttlMs }
  let found = 0
  let ranges = 0
  for (;;) {
    throwIfAborted(args.signal)
    const claim = await adapter.leaseRange!(c, generation, lease)
    if ('done' in claim) return { ranges, found }
    if ('waitMs' in claim) {
      // Every range is held by live workers: look again soon (they finish) or when a lease expires (one died).
      await sleep(Math.min(Math.max(50, claim.waitMs), WAIT_POLL_MS), args.signal)
      continue
    }
    const { range } = claim
    args.onRange?.({ range, state: 'claimed' })
    const lost = new AbortController()
    const renew = setInterval(() => {
      adapter.renewLease!(c, generation, range, lease).then(
        (held) => held || lost.abort(),
        () => undefined,
      )
    }, Math.max(10, Math.floor(args.ttlMs / 3)))
    const signal = args.signal ? AbortSignal.any([args.signal, lost.signal]) : lost.signal
    const before = found
    try {
      const res = await pump({
        adapter,
        collection: c,
        generation,
        encoder: args.encoder,
        zeroVectors: args.zeroVectors,
        phase: 'backfill',
        range,
        batchSize: args.batchSize,
        retryBaseMs: args.retryBaseMs,
        signal,
        onWritten: (n) => args.onWritten?.(before + n),
      })
      found += res.found
    } catch (err) {
      if (!lost.signal.aborted || args.signal?.aborted) throw err
    } finally {
      clearInterval(renew)
    }
    if (lost.signal.aborted || !(await adapter.completeLease!(c, generation, range, lease))) {
      args.onRange?.({ range, state: 'lost' })
      continue
    }
    ranges++
    args.onRange?.({ range, state: 'done' })
  }
}
