/**
 * `embedform sync`: embeds every stale or missing row of the live generation (and, asked to, of
 * the retained ones) and ends. It takes no migration lock: it only writes vectors through the
 * token-guarded write path, so it runs next to an apply, another sync, or a watching sync, and a
 * run that is killed leaves only rows that are still queued for the next one.
 */
import { failure, isEmbedformError } from '../core/errors.js'
import type { Collection } from '../core/types.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState, StoreAdapter } from '../store/adapter.js'
import { batchRows } from '../store/batch-rows.js'
import { MAX_CATCHUP_PASSES } from '../apply/steps.js'
import { sleep, throwIfAborted } from '../apply/retry.js'
import { GenerationEncoders } from './encoders.js'
import { FailedRows } from './failures.js'
import { syncPass, syncThrottle } from './generation.js'
import type { GenerationSync, SyncOptions, SyncResult } from './types.js'
import { zeroVectorPolicy } from '../core/zero-vectors.js'

export const DEFAULT_ROW_ATTEMPTS = 3
export const DEFAULT_RETRY_BASE_MS = 1000
export const DEFAULT_MAX_RETRY_MS = 5 * 60_000

export function collectionOf(ctx: EngineContext, name: string): Collection {
  const [c] = selectCollections(ctx, [name])
  if (!c) throw failure('E_INTERNAL', `collection ${name} not resolved`)
  return c
}

/** The generations a sync keeps fresh: the live one, and the retained ones when asked. */
export function syncTargets(c: Collection, generations: GenerationState[], live: number | null, all: boolean): GenerationState[] {
  if (live === null) {
    throw failure('E_NO_LIVE_GENERATION', `collection ${c.name} has no live generation yet: there is nothing to keep fresh`, {
      location: { object: c.target },
      hint: '`embedform apply` creates and cuts over to the first generation',
    })
  }
  return generations.filter((g) => g.id === live || (all && g.status === 'retained')).sort((a, b) => (a.id === live ? -1 : b.id === live ? 1 : b.id - a.id))
}

export async function sync(ctx: EngineContext, collectionName: string, opts: SyncOptions = {}): Promise<SyncResult> {
  const started = performance.now()
  const c = collectionOf(ctx, collectionName)
  const adapter = await ctx.adapterFor(c.store)
  const emit = ctx.onEvent ?? (() => undefined)
  const state = await adapter.inspect(c)
  const targets = syncTargets(c, state.generations, state.live, opts.allGenerations === true)
  const failures = new FailedRows({ retryBaseMs: opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, maxRetryMs: opts.maxRetryMs ?? DEFAULT_MAX_RETRY_MS })
  await failures.load(adapter, c)
  const encoders = new GenerationEncoders(ctx)
  const generations: GenerationSync[] = []
  const skipped: SyncResult['skipped'] = []
  try {
    for (const g of targets) {
      let encoder
      try {
        encoder = await encoders.get(c, g)
      } catch (err) {
        // The live generation is the point of a sync; a retained one of unknown model is only skipped.
        if (g.id === state.live || !isEmbedformError(err)) throw err
        skipped.push({ generation: g.id, reason: err.message })
        continue
      }
      generations.push(await syncGeneration(adapter, c, g, { encoder, failures, opts, emit }))
    }
  } finally {
    await encoders.close()
    await failures.flush(adapter, c)
  }
  return { collection: c.name, generations, skipped, ms: performance.now() - started }
}

interface GenerationRun {
  encoder: Awaited<ReturnType<GenerationEncoders['get']>>
  failures: FailedRows
  opts: SyncOptions
  emit: NonNullable<EngineContext['onEvent']>
}

/**
 * Rows without any vector first (a scan: this also finds gaps no queue holds, e.g. rows of an
 * adopted table), then the change queue until a pass finds nothing or the passes run out (writes
 * that keep arriving are the next sync's, or a watching sync's). Failing rows are tried again
 * after their backoff, up to rowAttempts times in this run.
 */
async function syncGeneration(adapter: StoreAdapter, c: Collection, g: GenerationState, run: GenerationRun): Promise<GenerationSync> {
  const { failures, opts, emit } = run
  const before = await adapter.freshness(c, g.id)
  const step = `${c.name}/g${g.id}/sync`
  const total = before.stale + before.missing
  emit({ type: 'step-start', step, title: `sync g${g.id} of ${c.name} (${total} stale or missing)`, total })
  const t0 = performance.now()
  const args = {
    adapter,
    collection: c,
    generation: g.id,
    encoder: run.encoder,
    zeroVectors: zeroVectorPolicy(g.profileSnapshot),
    failures,
    batchSize: batchRows(opts.batchSize, adapter.capabilities, g.dimensions),
    emit,
    step,
    total,
    ...(opts.signal ? { signal: opts.signal } : {}),
    throttle: syncThrottle(adapter, c, opts.throttle, emit),
  }
  let embedded = 0
  let passes = 0
  const attempts = opts.rowAttempts ?? DEFAULT_ROW_ATTEMPTS
  for (let round = 0; ; round++) {
    if (round === 0) {
      embedded += await syncPass(args, 'backfill')
      passes++
    }
    for (let pass = 0; pass < MAX_CATCHUP_PASSES; pass++) {
      throwIfAborted(opts.signal)
      const found = await syncPass(args, 'catchup')
      embedded += found
      passes++
      if (found === 0) break
    }
    await failures.flush(adapter, c)
    const waiting = failures.list(g.id).filter((f) => f.attempts < attempts)
    const wait = failures.nextRetryIn(g.id)
    if (waiting.length === 0 || wait === undefined) break
    await sleep(wait, opts.signal)
    throwIfAborted(opts.signal)
  }
  const after = await adapter.freshness(c, g.id)
  const failed = failures.list(g.id)
  emit({ type: 'step-end', step, ms: performance.now() - t0, detail: { embedded, passes, failed: failed.length } })
  if (failed.length > 0) {
    emit({ type: 'log', level: 'warn', message: `${failed.length} row(s) of g${g.id} could not be embedded (first: key ${String(failed[0]!.key)}: ${failed[0]!.error}); they stay queued` })
  }
  return { generation: g.id, status: g.status, profile: g.profile, before, embedded, passes, after, failed }
}
