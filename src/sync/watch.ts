/**
 * `embedform sync --watch`: follows the application's changes for as long as it runs.
 *
 * PostgreSQL pushes: the change trigger NOTIFYs at commit and the watcher runs a catch-up pass of
 * the queue (cost ∝ changes). Notifications are a hint, never the record: the queue is, so a
 * notification lost while the watcher was disconnected costs nothing, and a sweep every sweepMs
 * (rows without a vector, then the queue) is the safety net. Stores that cannot push (OpenSearch)
 * are polled every pollMs through the same catch-up pass (their updated-at window).
 *
 * When the store goes away (restart, network), the pass or the LISTEN connection fails; the
 * watcher waits with exponential backoff and starts over with a sweep. SIGTERM (the signal) ends
 * it after the batch in flight; nothing is lost either way, since unsynced rows stay queued.
 */
import { isEmbedformError } from '../core/errors.js'
import type { Collection } from '../core/types.js'
import type { EngineContext } from '../plan/types.js'
import type { ChangeSubscription, QueueSlices, StoreAdapter } from '../store/adapter.js'
import { batchRows } from '../store/batch-rows.js'
import { sleep } from '../apply/retry.js'
import { GenerationEncoders } from './encoders.js'
import { FailedRows } from './failures.js'
import { syncPass, syncThrottle } from './generation.js'
import { collectionOf, DEFAULT_MAX_RETRY_MS, DEFAULT_RETRY_BASE_MS, syncTargets } from './run.js'
import type { WatchOptions, WatchPass } from './types.js'
import { Wakeup } from './wakeup.js'
import { zeroVectorPolicy } from '../core/zero-vectors.js'

export const DEFAULT_SWEEP_MS = 60_000
export const DEFAULT_POLL_MS = 1_000
export const DEFAULT_MAX_BACKOFF_MS = 10_000
const FIRST_BACKOFF_MS = 200
/** Slices of the change queue that watchers sharing it claim one at a time. */
export const QUEUE_SLICES = 8
const SLICES_PER_CLAIM = 4
export const DEFAULT_LEASE_MS = 30_000

export interface WatchHooks {
  onPass?: (p: WatchPass) => void
  /** The store was unreachable; the watcher retries in `retryInMs`. */
  onDisconnect?: (err: unknown, retryInMs: number) => void
  /** Subscribed (again) and swept: following changes from here. */
  onConnected?: (pushed: boolean) => void
}

export interface WatchSummary {
  collection: string
  passes: number
  embedded: number
  reconnects: number
  failed: number
}

export async function watch(ctx: EngineContext, collectionName: string, opts: WatchOptions & { signal: AbortSignal }, hooks: WatchHooks = {}): Promise<WatchSummary> {
  const c = collectionOf(ctx, collectionName)
  const failures = new FailedRows({ retryBaseMs: opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, maxRetryMs: opts.maxRetryMs ?? DEFAULT_MAX_RETRY_MS })
  const encoders = new GenerationEncoders(ctx)
  const summary: WatchSummary = { collection: c.name, passes: 0, embedded: 0, reconnects: 0, failed: 0 }
  const sweepMs = opts.sweepMs ?? DEFAULT_SWEEP_MS
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const maxBackoff = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS
  let backoff = FIRST_BACKOFF_MS
  try {
    while (!opts.signal.aborted) {
      const wake = new Wakeup()
      let lost: unknown
      let sub: ChangeSubscription | undefined
      try {
        const adapter = await ctx.adapterFor(c.store)
        sub =
          (await adapter.watchChanges?.(c, {
            onChange: () => wake.signal(),
            onLost: (err) => {
              lost = err
              wake.signal()
            },
          })) ?? undefined
        if (summary.passes === 0) await failures.load(adapter, c)
        // Whatever changed while nobody listened is in the queue: start with a sweep.
        await passes(adapter, c, 'start')
        backoff = FIRST_BACKOFF_MS
        hooks.onConnected?.(sub !== undefined)
        let lastSweep = performance.now()
        while (!opts.signal.aborted) {
          const untilSweep = sweepMs - (performance.now() - lastSweep)
          // A failed row's retry comes due even when nothing else changes. Only future ones: a row
          // already due that the last pass did not reach (deleted meanwhile) must not spin the loop.
          const retries = failures.list().map((f) => Date.parse(f.retryAt) - Date.now()).filter((ms) => ms > 0)
          const untilRetry = Math.min(...retries, Number.POSITIVE_INFINITY)
          const notified = await wake.wait(Math.min(sub ? untilSweep : pollMs, untilSweep, untilRetry), opts.signal)
          if (lost !== undefined) throw lost
          if (opts.signal.aborted) break
          const sweep = performance.now() - lastSweep >= sweepMs
          await passes(adapter, c, sweep ? 'sweep' : notified ? 'notify' : 'poll')
          if (sweep) lastSweep = performance.now()
        }
      } catch (err) {
        if (opts.signal.aborted) break
        // Bad configuration or a generation that cannot be embedded: retrying cannot help.
        if (isEmbedformError(err) && (err.kind === 'input' || err.code === 'E_SYNC_UNKNOWN_MODEL' || err.code === 'E_NO_LIVE_GENERATION')) throw err
        summary.reconnects++
        hooks.onDisconnect?.(err, backoff)
        await sleep(backoff, opts.signal)
        backoff = Math.min(maxBackoff, backoff * 2)
      } finally {
        await sub?.close()
      }
    }
  } finally {
    await encoders.close()
  }
  summary.failed = failures.list().length
  return summary

  /**
   * The generation's change queue: whole, or the slices this watcher could claim where the store
   * lets several watchers share it (leases renewed meanwhile; slices others marked are run again).
   */
  async function queuePasses(adapter: StoreAdapter, col: Collection, generation: number, pass: (slices?: QueueSlices) => Promise<number>): Promise<number> {
    const { claimSlices, renewSlices, releaseSlices } = adapter
    if (!claimSlices || !renewSlices || !releaseSlices) return pass()
    const lease = { holder: opts.holder ?? `sync pid ${process.pid}`, ttlMs: opts.leaseMs ?? DEFAULT_LEASE_MS }
    let embedded = 0
    // A few slices at a time, in order, so that watchers woken together split the queue.
    for (let from = 0; from < QUEUE_SLICES; ) {
      let held = await claimSlices.call(adapter, col, generation, { from, limit: SLICES_PER_CLAIM, max: QUEUE_SLICES }, lease)
      if (held.length === 0) break
      from = Math.max(...held) + 1
      const renew = setInterval(() => void renewSlices.call(adapter, col, generation, held, lease).catch(() => undefined), Math.max(10, Math.floor(lease.ttlMs / 3)))
      try {
        while (held.length > 0) {
          embedded += await pass({ ids: held, max: QUEUE_SLICES })
          held = await releaseSlices.call(adapter, col, generation, held, lease)
        }
      } finally {
        clearInterval(renew)
      }
    }
    return embedded
  }

  /**
   * One pass per target generation (read again each time: an apply may have cut over to a new
   * one). A sweep also embeds rows without a vector that no queue entry names.
   */
  async function passes(adapter: StoreAdapter, col: Collection, reason: WatchPass['reason']): Promise<void> {
    const state = await adapter.inspect(col)
    for (const g of syncTargets(col, state.generations, state.live, opts.allGenerations === true)) {
      if (opts.signal.aborted) return
      let encoder
      try {
        encoder = await encoders.get(col, g)
      } catch (err) {
        if (g.id === state.live) throw err
        continue
      }
      const t0 = performance.now()
      const args = {
        adapter,
        collection: col,
        generation: g.id,
        encoder,
        zeroVectors: zeroVectorPolicy(g.profileSnapshot),
        failures,
        batchSize: batchRows(opts.batchSize, adapter.capabilities, g.dimensions),
        emit: ctx.onEvent ?? (() => undefined),
        step: `${col.name}/g${g.id}/watch`,
        signal: opts.signal,
        throttle: syncThrottle(adapter, col, opts.throttle, ctx.onEvent ?? (() => undefined)),
      }
      let embedded = reason === 'start' || reason === 'sweep' ? await syncPass(args, 'backfill') : 0
      embedded += await queuePasses(adapter, col, g.id, (slices) => syncPass({ ...args, ...(slices ? { slices } : {}) }, 'catchup'))
      summary.passes++
      summary.embedded += embedded
      await failures.flush(adapter, col)
      hooks.onPass?.({ type: 'sync-pass', generation: g.id, reason, embedded, failed: failures.list(g.id).length, ms: performance.now() - t0 })
    }
  }
}
