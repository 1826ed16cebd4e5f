/**
 * What each plan step does against the store. Every step is safe to run again after a crash:
 * adapter operations are idempotent and the pending queries only return rows still missing.
 */
import { failure, inputError } from '../core/errors.js'
import type { ProgressEvent } from '../core/events.js'
import type { Collection, Profile } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import type { CollectionPlan, EngineContext, PlanStep } from '../plan/types.js'
import type { GenerationSpec, GenerationState, StoreAdapter } from '../store/adapter.js'
import { batchRows } from '../store/batch-rows.js'
import { leasedBackfill } from '../workers/backfill.js'
import { withBatchProgress } from './batch-progress.js'
import { pump, type PumpArgs } from './pump.js'
import { DEFAULT_MAX_HOLD_MS, switchGeneration } from './switch.js'
import type { ApplyOptions, GateResult } from './types.js'

/**
 * Catch-up passes per round. Catch-up never has to reach an empty pass: whatever is still queued
 * when a round ends is embedded by the cutover while it holds the application's writes.
 */
export const MAX_CATCHUP_PASSES = 10

export interface StepContext {
  ctx: EngineContext
  plan: CollectionPlan
  collection: Collection
  adapter: StoreAdapter
  /** Undefined for plans that never encode (index rebuilds). */
  encoder: Encoder | undefined
  opts: ApplyOptions
  emit: (e: ProgressEvent) => void
  stats: Record<string, number>
  /** Set by the quality-gate step so the result can carry it. */
  gate?: GateResult
  /** Rows per second of the last encode pass (read, encode, write), for sizing the cutover's hold. */
  rate?: number
  throttle?: PumpArgs['throttle']
}

function bump(stats: Record<string, number>, key: string, by: number): void {
  stats[key] = (stats[key] ?? 0) + by
}

function generationSpec(plan: CollectionPlan, g: number): GenerationSpec {
  const p: Profile = plan.profile
  return {
    id: g,
    profile: p.name,
    fingerprint: plan.to.fingerprint ?? '',
    model: p.model.source,
    dimensions: p.dimensions,
    storage: p.index.storage,
    index: p.index,
    normalized: p.normalize,
    profileSnapshot: p,
  }
}

async function generation(sc: StepContext, id: number): Promise<GenerationState> {
  const state = await sc.adapter.inspect(sc.collection)
  const g = state.generations.find((x) => x.id === id)
  if (!g) {
    throw failure('E_GENERATION_MISSING', `generation g${id} of collection ${sc.collection.name} is gone from the store`, {
      location: { object: `generation g${id} of ${sc.collection.target}` },
      hint: 'something dropped it during apply; run `embedform plan` again',
    })
  }
  return g
}

function encoderOf(sc: StepContext): Encoder {
  if (!sc.encoder) throw failure('E_INTERNAL', `step needs an encoder but plan ${sc.plan.collection} (${sc.plan.change}) opened none`)
  return sc.encoder
}

async function encodePass(sc: StepContext, step: PlanStep, phase: 'backfill' | 'catchup', total: number | undefined): Promise<number> {
  let counted = 0
  let encoded = 0
  const started = performance.now()
  // Progress moves with each encoder batch (rows encoded and on their way to the store); the
  // journal's rowsWritten moves with each write, so after a failure it says what the store holds.
  const encoder = withBatchProgress(encoderOf(sc), sc.plan.profile.batchSize, (rows) => {
    encoded += rows
    sc.emit({ type: 'progress', step: step.id, done: encoded, ...(total === undefined ? {} : { total }) })
  })
  const res = await pump({
    adapter: sc.adapter,
    collection: sc.collection,
    generation: step.generation,
    encoder,
    zeroVectors: sc.plan.profile.zeroVectors,
    phase,
    batchSize: batchRows(sc.opts.batchSize, sc.adapter.capabilities, sc.plan.profile.dimensions),
    retryBaseMs: sc.opts.retryBaseMs ?? 500,
    ...(sc.opts.signal ? { signal: sc.opts.signal } : {}),
    ...(sc.throttle ? { throttle: sc.throttle } : {}),
    onWritten: (done) => {
      // Counted per write, not per pass, so a journal written after a failure still tells how far it got.
      bump(sc.stats, 'rowsWritten', done - counted)
      counted = done
    },
    onRetry: (attempt, err) =>
      sc.emit({ type: 'log', level: 'warn', message: `write to g${step.generation} failed (${(err as Error).message}); retry ${attempt}` }),
  })
  const seconds = (performance.now() - started) / 1000
  if (res.found >= 50 && seconds > 0) sc.rate = res.found / seconds
  return res.found
}

/** This process's share of a backfill split into leased key ranges; returns once every range is done. */
async function sharedBackfill(sc: StepContext, step: PlanStep, w: NonNullable<StepContext['opts']['workers']>): Promise<void> {
  await sc.adapter.planRanges?.(sc.collection, step.generation, w.rangeRows)
  let counted = 0
  const res = await leasedBackfill({
    adapter: sc.adapter,
    collection: sc.collection,
    generation: step.generation,
    encoder: encoderOf(sc),
    zeroVectors: sc.plan.profile.zeroVectors,
    holder: w.holder,
    ttlMs: w.ttlMs,
    batchSize: batchRows(sc.opts.batchSize, sc.adapter.capabilities, sc.plan.profile.dimensions),
    retryBaseMs: sc.opts.retryBaseMs ?? 500,
    ...(sc.opts.signal ? { signal: sc.opts.signal } : {}),
    onWritten: (done) => {
      bump(sc.stats, 'rowsWritten', done - counted)
      counted = done
      sc.emit({ type: 'progress', step: step.id, done })
    },
  })
  sc.emit({ type: 'log', level: 'info', message: `backfill of g${step.generation}: this process embedded ${res.found} rows in ${res.ranges} key range(s); other workers the rest` })
}

/**
 * Catch-up passes until one finds at most `enough` rows (0: nothing left) or the round's passes
 * run out. A retained generation first gets a backfill-phase pass for rows that have no vector in
 * it at all (an adopted generation's gaps), which its change queue never held.
 */
async function catchUp(sc: StepContext, step: PlanStep, enough = 0): Promise<number> {
  if (sc.plan.change === 'cutover-retained' && step.kind === 'catch-up') await encodePass(sc, step, 'backfill', step.estimate.rows)
  let found = 0
  let notShrinking = 0
  for (let pass = 1; pass <= MAX_CATCHUP_PASSES; pass++) {
    const previous = found
    found = await encodePass(sc, step, 'catchup', undefined)
    bump(sc.stats, 'catchUpPasses', 1)
    if (found <= enough) return found
    // Each pass takes what was queued when it began; when that stops shrinking, writes arrive as
    // fast as catch-up embeds, and more passes only take longer.
    notShrinking = pass > 1 && found >= previous ? notShrinking + 1 : 0
    if (notShrinking >= 2) break
  }
  sc.emit({ type: 'log', level: 'info', message: `catch-up of g${step.generation}: ${found} rows changed during the last pass; the cutover embeds the rest while it holds writes` })
  return found
}

async function verify(sc: StepContext, step: PlanStep): Promise<void> {
  const isLive = (await sc.adapter.inspect(sc.collection)).live === step.generation
  // One pass: verify counts what is still queued without failing, and under a steady writer
  // passes that must empty the queue would only delay the cutover, which embeds the rest anyway.
  if (!isLive) await catchUp(sc, step, Number.POSITIVE_INFINITY)
  const report = await sc.adapter.verify(sc.collection, step.generation)
  const recall = report.indexRecall === null ? '' : `, index recall@10 ${report.indexRecall.toFixed(3)}`
  sc.emit({
    type: 'log',
    level: 'info',
    message: `verify g${step.generation}: ${report.populated}/${report.total} rows, ${report.missing} missing and ${report.stale} stale (queued for the cutover), ${report.skipped > 0 ? `${report.skipped} skipped (zero_vectors: skip), ` : ''}${report.zeroVectors} zero vectors, index ${report.indexValid === null ? 'none' : report.indexValid ? 'valid' : 'INVALID'}${recall}`,
  })
  if (report.zeroVectors > 0) {
    sc.emit({
      type: 'log',
      level: 'warn',
      message: `${report.zeroVectors} rows of g${step.generation} have all-zero vectors (empty or out-of-vocabulary text): no query finds them under cosine; \`zero_vectors: skip\` in profile ${sc.plan.profile.name} stores no vector for them instead`,
    })
  }
  if (report.ok) return
  const onlyUntracked = report.untracked > 0 && report.wrongDimensions === 0 && report.indexValid !== false && report.sample.selfFound === report.sample.checked
  // Rows missing from the live generation are what `embedform sync` is for, not a failed rebuild.
  if (onlyUntracked && isLive) {
    sc.emit({ type: 'log', level: 'warn', message: `${report.untracked} rows have no current vector in live generation g${step.generation}; \`embedform sync ${sc.collection.name}\` embeds them` })
    return
  }
  throw failure('E_VERIFY_FAILED', `generation g${step.generation} of ${sc.collection.name} failed verification: ${report.problems.join('; ')}`, {
    location: { object: `generation g${step.generation} of ${sc.collection.target}` },
    hint: 'nothing readers see changed; fix the problem and run apply again (it resumes)',
  })
}

async function qualityGate(sc: StepContext, step: PlanStep): Promise<void> {
  const gate = sc.plan.profile.gate
  if (!gate) return
  if (sc.opts.skipGate) {
    sc.emit({ type: 'log', level: 'warn', message: `quality gate ${gate.metric} skipped (--skip-gate): g${step.generation} goes live unchecked` })
    return
  }
  if (!sc.opts.gate) {
    throw failure('E_GATE_RUNNER', `profile ${sc.plan.profile.name} declares a quality gate but apply was given no gate runner`, {
      hint: 'pass a GateRunner (the CLI uses src/eval/gate.ts), or skip the gate explicitly with skipGate / --skip-gate',
    })
  }
  const state = await sc.adapter.inspect(sc.collection)
  const live = state.generations.find((g) => g.id === state.live)
  const candidate = state.generations.find((g) => g.id === step.generation)
  if (!live || !candidate) {
    throw failure('E_GENERATION_MISSING', `quality gate needs both the live generation and g${step.generation} of ${sc.collection.name}`)
  }
  const result = await sc.opts.gate({ ctx: sc.ctx, collection: sc.collection, adapter: sc.adapter, liveGeneration: live, candidate, gate })
  sc.gate = result
  // A failed gate's table travels in the error; logging it too would print it twice.
  if (result.passed) sc.emit({ type: 'log', level: 'info', message: result.report })
  if (!result.passed) {
    throw failure(
      'E_GATE_FAILED',
      `quality gate failed for ${sc.collection.name}: ${result.metric} ${result.candidate.toFixed(4)} on g${candidate.id} vs ${result.live.toFixed(4)} on g${live.id} (drop ${result.drop.toFixed(4)} > max ${result.maxDrop})\n${result.report}`,
      {
        location: { object: `generation g${candidate.id} of ${sc.collection.target}` },
        hint: `g${candidate.id} is kept (building); apply again with --skip-gate to cut over anyway, or \`embedform rollback ${sc.collection.name}\` to abandon it`,
      },
    )
  }
}

async function cutover(sc: StepContext, step: PlanStep): Promise<void> {
  const state = await sc.adapter.inspect(sc.collection)
  if (state.live === step.generation) return
  const res = await switchGeneration({
    adapter: sc.adapter,
    collection: sc.collection,
    generation: step.generation,
    encoder: encoderOf(sc),
    zeroVectors: sc.plan.profile.zeroVectors,
    maxHoldMs: sc.opts.maxHoldMs ?? DEFAULT_MAX_HOLD_MS,
    acceptStale: false,
    catchUp: async (enough) => {
      await catchUp(sc, step, enough)
      return sc.rate
    },
    onBehind: (attempt, pending, maxHeldRows) => {
      bump(sc.stats, 'cutoverRetries', 1)
      sc.emit({ type: 'log', level: 'info', message: `cutover attempt ${attempt}: ${pending} rows pending, more than the ${maxHeldRows} it may embed while holding writes; catching up again` })
    },
  })
  bump(sc.stats, 'embeddedWhileHeld', res.embeddedWhileHeld)
  bump(sc.stats, 'rowsWritten', res.embeddedWhileHeld)
  sc.stats.heldMs = Math.round(res.heldMs)
  sc.stats.swapMs = Math.round(res.swapMs)
  sc.emit({
    type: 'log',
    level: 'info',
    message: `cut over to g${step.generation}: application writes held ${Math.round(res.heldMs)} ms (${res.embeddedWhileHeld} rows embedded meanwhile), readers paused ${Math.round(res.swapMs)} ms for the swap`,
  })
}

async function retainPrevious(sc: StepContext, step: PlanStep): Promise<void> {
  const previous = sc.plan.from?.generation
  if (previous === undefined) return
  const g = await generation(sc, previous)
  if (g.status !== 'retained') {
    throw failure('E_RETAIN', `g${previous} of ${sc.collection.name} should be retained after the cutover but is ${g.status}`, {
      location: { object: `generation g${previous} of ${sc.collection.target}` },
    })
  }
  sc.emit({ type: 'log', level: 'info', message: `g${previous} retained: \`embedform rollback ${sc.collection.name}\` switches back until gc drops it (step ${step.id})` })
}

export async function runStep(sc: StepContext, step: PlanStep): Promise<void> {
  const { adapter, collection } = sc
  switch (step.kind) {
    case 'create-generation':
      return adapter.createGeneration(collection, generationSpec(sc.plan, step.generation))
    case 'backfill': {
      const state = await adapter.inspect(collection)
      const populated = state.generations.find((g) => g.id === step.generation)?.populated ?? 0
      sc.emit({ type: 'progress', step: step.id, done: 0, total: Math.max(0, state.rows - populated) })
      if (sc.opts.workers) await sharedBackfill(sc, step, sc.opts.workers)
      else await encodePass(sc, step, 'backfill', Math.max(0, state.rows - populated))
      return
    }
    case 'catch-up':
      await catchUp(sc, step)
      return
    case 'drop-index':
      return adapter.dropIndex(collection, step.generation)
    case 'build-index':
      return adapter.buildIndex(
        collection,
        step.generation,
        (done, total) => sc.emit({ type: 'progress', step: step.id, done, total }),
        sc.plan.profile.index,
      )
    case 'verify':
      return verify(sc, step)
    case 'quality-gate':
      return qualityGate(sc, step)
    case 'cutover':
      return cutover(sc, step)
    case 'retain-previous':
      return retainPrevious(sc, step)
    case 'adopt': {
      if (!adapter.adopt) {
        throw inputError('E_PLAN_STEP', `step ${step.id}: store ${collection.store} (${adapter.kind}) cannot adopt ${collection.target}`, {
          hint: 'make a new plan with `embedform plan -o plan.json`',
        })
      }
      const { heldMs } = await adapter.adopt(collection)
      sc.emit({ type: 'log', level: 'info', message: `adopted ${collection.target}: application writes were held ${heldMs} ms` })
      return
    }
  }
}
