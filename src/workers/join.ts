/**
 * `embedform worker`: joins the shared backfill of an apply in flight (started with --workers, on
 * this machine or another), working leased key ranges until none is left. It waits for such a
 * backfill to appear, so workers can be started before the apply or next to it.
 */
import { failure } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { KeyRange } from '../store/adapter.js'
import { batchRows } from '../store/batch-rows.js'
import { sleep, throwIfAborted } from '../apply/retry.js'
import { leasedBackfill, supportsLeases } from './backfill.js'
import { zeroVectorPolicy } from '../core/zero-vectors.js'

export interface JoinOptions {
  holder: string
  ttlMs: number
  /** How long to wait for a shared backfill to join. */
  waitMs: number
  batchSize?: number
  signal?: AbortSignal
  onJoined?: (generation: number) => void
  onRange?: (event: { range: KeyRange; state: 'claimed' | 'done' | 'lost' }) => void
}

export interface JoinResult {
  collection: string
  generation: number
  ranges: number
  rowsWritten: number
  ms: number
}

const LOOK_EVERY_MS = 250

export async function joinBackfill(ctx: EngineContext, collectionName: string, opts: JoinOptions): Promise<JoinResult> {
  const started = performance.now()
  const [c] = selectCollections(ctx, [collectionName])
  if (!c) throw failure('E_INTERNAL', `collection ${collectionName} not resolved`)
  const adapter = await ctx.adapterFor(c.store)
  if (!supportsLeases(adapter)) {
    throw failure('E_WORKERS_UNSUPPORTED', `the ${adapter.kind} store of ${c.name} cannot share a backfill between workers`, { hint: 'run `embedform apply` alone' })
  }
  for (;;) {
    throwIfAborted(opts.signal)
    const journal = await adapter.readJournal(c)
    const state = journal ? await adapter.inspect(c) : undefined
    const g = journal ? state?.generations.find((x) => x.id === journal.generation && x.status === 'building') : undefined
    if (g && (await adapter.rangesPlanned!(c, g.id))) {
      if (!g.profileSnapshot) throw failure('E_INTERNAL', `building generation g${g.id} of ${c.name} has no profile recorded`)
      opts.onJoined?.(g.id)
      const encoder = await ctx.openEncoder(g.profileSnapshot, ctx.encoderOptions)
      let rowsWritten = 0
      try {
        const res = await leasedBackfill({
          adapter,
          collection: c,
          generation: g.id,
          encoder,
          zeroVectors: zeroVectorPolicy(g.profileSnapshot),
          holder: opts.holder,
          ttlMs: opts.ttlMs,
          batchSize: batchRows(opts.batchSize, adapter.capabilities, g.dimensions),
          retryBaseMs: 500,
          ...(opts.signal ? { signal: opts.signal } : {}),
          onWritten: (n) => (rowsWritten = n),
          ...(opts.onRange ? { onRange: opts.onRange } : {}),
        })
        return { collection: c.name, generation: g.id, ranges: res.ranges, rowsWritten: Math.max(rowsWritten, res.found), ms: performance.now() - started }
      } finally {
        await encoder.close()
      }
    }
    if (performance.now() - started > opts.waitMs) {
      throw failure('E_NOTHING_TO_JOIN', `no shared backfill of ${c.name} is in flight to join`, {
        location: { object: c.target },
        hint: 'start the migration with `embedform apply --workers N` (here or on another machine), then start workers',
      })
    }
    await sleep(LOOK_EVERY_MS, opts.signal)
  }
}
