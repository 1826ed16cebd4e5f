/**
 * Syncing one generation: every stale or missing row gets the vector of its current text, made
 * with the generation's own profile (the snapshot stored with it, never the configuration's
 * current one), and written with the store's token guard.
 */
import type { ProgressEvent } from '../core/events.js'
import type { Collection, ZeroVectorPolicy } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import { pump, type PumpArgs } from '../apply/pump.js'
import { collectionThrottle, describeReason, type ThrottleOptions } from '../apply/throttle.js'
import type { PendingOptions, StoreAdapter } from '../store/adapter.js'
import type { FailedRows } from './failures.js'

export interface GenerationPassArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: number
  encoder: Encoder
  /** The generation's own profile setting (its snapshot), not the configuration's. */
  zeroVectors: ZeroVectorPolicy
  failures: FailedRows
  batchSize: number
  signal?: AbortSignal
  emit: (e: ProgressEvent) => void
  step: string
  /** Rows the progress counts up to, when known. */
  total?: number
  /** catchup of some slices of the queue (watchers sharing it). */
  slices?: PendingOptions['slices']
  throttle?: PumpArgs['throttle']
}

/**
 * Sync's throttle: the same ceilings as apply's, but no pause record (that belongs to an apply in
 * flight); when it waits, the progress says why.
 */
export function syncThrottle(adapter: StoreAdapter, c: Collection, opts: ThrottleOptions | undefined, emit: (e: ProgressEvent) => void): PumpArgs['throttle'] {
  if (!opts?.limits || Object.keys(opts.limits).length === 0) return undefined
  return collectionThrottle(adapter, c, { ...opts, probes: { control: async () => undefined, ...opts.probes } }, (reason) =>
    emit({ type: 'log', level: 'info', message: reason ? `sync of ${c.name} throttled: ${describeReason(reason)}` : `sync of ${c.name} no longer throttled` }),
  )
}

/** One pass over the generation's pending rows in `phase`; returns the rows it embedded. */
export async function syncPass(args: GenerationPassArgs, phase: PendingOptions['phase']): Promise<number> {
  const { found } = await pump({
    adapter: args.adapter,
    collection: args.collection,
    generation: args.generation,
    encoder: args.failures.isolating(args.encoder, args.generation),
    zeroVectors: args.zeroVectors,
    phase,
    ...(args.slices ? { slices: args.slices } : {}),
    ...(args.throttle ? { throttle: args.throttle } : {}),
    batchSize: args.batchSize,
    // The generation may be live: sync is the one writer allowed to write the column readers use.
    writeOptions: { live: true },
    retryBaseMs: 500,
    ...(args.signal ? { signal: args.signal } : {}),
    onWritten: (done) => args.emit({ type: 'progress', step: args.step, done, ...(args.total === undefined ? {} : { total: args.total }) }),
    onRetry: (attempt, err) => args.emit({ type: 'log', level: 'warn', message: `write to g${args.generation} failed (${(err as Error).message}); retry ${attempt}` }),
  })
  return found
}
