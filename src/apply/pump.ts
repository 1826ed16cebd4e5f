/**
 * Pending rows → encoder → store, with encoding of page n+1 overlapping the write of page n.
 * At most one write in flight and one page being encoded, so memory stays bounded by two pages.
 */
import { failure, isEmbedformError } from '../core/errors.js'
import type { Collection, ZeroVectorPolicy } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import type { PendingOptions, PendingRow, StoreAdapter, VectorRow, WriteOptions } from '../store/adapter.js'
import { throwIfAborted, withRetries } from './retry.js'
import { vectorRow } from './vector-rows.js'

export const WRITE_RETRIES = 3

export interface PumpArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: number
  encoder: Encoder
  /** The generation's profile setting: what an all-zero vector is written as (vector-rows.ts). */
  zeroVectors: ZeroVectorPolicy
  phase: PendingOptions['phase']
  /** backfill of one leased key range (workers). */
  range?: PendingOptions['range']
  /** catchup of some slices of the queue (watchers sharing it). */
  slices?: PendingOptions['slices']
  batchSize: number
  /** `{ live: true }` for sync, which keeps the generation the application reads fresh. */
  writeOptions?: WriteOptions
  retryBaseMs: number
  signal?: AbortSignal
  /** Called after each successful write with the rows handed to the store so far in this pump (the token guard may still skip some). */
  onWritten?: (written: number) => void
  onRetry?: (attempt: number, err: unknown) => void
  /** Waits before each write while the apply is paused, lagging or over its rate (src/apply/throttle.ts). */
  throttle?: { beforeBatch(rows: number, signal?: AbortSignal): Promise<void> }
}

export interface PumpResult {
  /** Rows the store reported pending (and that were encoded). */
  found: number
}

export async function pump(args: PumpArgs): Promise<PumpResult> {
  const { adapter, collection, generation, encoder } = args
  let found = 0
  let written = 0
  let writeError: unknown
  let inflight: Promise<void> | undefined

  const write = (rows: VectorRow[]): Promise<void> =>
    withRetries(() => adapter.write(collection, generation, rows, args.writeOptions), {
      retries: WRITE_RETRIES,
      baseMs: args.retryBaseMs,
      ...(args.signal ? { signal: args.signal } : {}),
      ...(args.onRetry ? { onRetry: args.onRetry } : {}),
    }).then(
      () => {
        written += rows.length
        args.onWritten?.(written)
      },
      // Kept, not thrown: an un-awaited rejection would crash the process while the next page encodes.
      (err: unknown) => {
        writeError = err
      },
    )

  const settle = async (): Promise<void> => {
    if (inflight) await inflight
    inflight = undefined
    // Input errors (wrong dimensions, bad identifiers) were never retried; they speak for themselves.
    if (isEmbedformError(writeError) && writeError.kind === 'input') throw writeError
    if (writeError !== undefined) {
      throw failure('E_WRITE_FAILED', `writing vectors into generation g${generation} of ${collection.target} failed after ${WRITE_RETRIES} retries: ${(writeError as Error).message ?? String(writeError)}`, {
        location: { object: `generation g${generation} of ${collection.target}` },
        hint: 'progress is kept; run apply again to resume once the store is reachable',
        cause: writeError,
      })
    }
  }

  const pages = adapter.pending(collection, generation, {
    batchSize: args.batchSize,
    phase: args.phase,
    ...(args.range ? { range: args.range } : {}),
    ...(args.slices ? { slices: args.slices } : {}),
  })
  try {
    for await (const { items, vectors } of encoder.encodeStream<PendingRow>(pages, 'document')) {
      await settle()
      await args.throttle?.beforeBatch(items.length, args.signal)
      throwIfAborted(args.signal)
      found += items.length
      inflight = write(items.map((row, i) => vectorRow(row, vectors[i] as Float32Array, args.zeroVectors)))
    }
  } finally {
    // Never leave a write running behind an error: the journal must describe what the store holds.
    if (inflight) await inflight
  }
  await settle()
  return { found }
}
