/**
 * applyPlan: runs a Plan's steps collection by collection under the store's migration lock,
 * with the journal written before and after every step so a killed apply resumes exactly where
 * it stopped.
 */
import { EmbedformError, failure, inputError, isEmbedformError } from '../core/errors.js'
import type { ProgressEvent } from '../core/events.js'
import type { Collection } from '../core/types.js'
import type { CollectionPlan, EngineContext, Plan } from '../plan/types.js'
import { classify } from '../plan/classify.js'
import type { Journal, LiveState, StoreAdapter } from '../store/adapter.js'
import { openEncoders, type EncoderPool } from './encoders.js'
import { throwIfAborted } from './retry.js'
import { collectionThrottle, describeReason } from './throttle.js'
import { runStep, type StepContext } from './steps.js'
import type { ApplyOptions, ApplyResult, CollectionApplyResult } from './types.js'

function collectionOf(ctx: EngineContext, plan: Plan, cp: CollectionPlan): Collection {
  const c = ctx.config.collections[cp.collection]
  if (!c) {
    throw inputError('E_PLAN_COLLECTION', `plan ${plan.id} names collection "${cp.collection}", which the configuration no longer declares`, {
      location: { file: ctx.config.file, path: `collections.${cp.collection}` },
      hint: 'make a new plan with `embedform plan`',
    })
  }
  return c
}

function staleError(cp: CollectionPlan, collection: Collection): EmbedformError {
  return inputError('E_PLAN_STALE', `the live state of collection "${cp.collection}" changed since the plan was made`, {
    location: { object: collection.target, path: `collections.${cp.collection}` },
    hint: 'run `embedform plan` again and review the new plan',
  })
}

function inProgressError(journal: Journal, collection: Collection): EmbedformError {
  return inputError('E_APPLY_IN_PROGRESS', `collection "${collection.name}" has apply of plan ${journal.planId} in progress (g${journal.generation}, at ${journal.current ?? 'between steps'})`, {
    location: { object: collection.target },
    hint: `resume it by applying plan ${journal.planId} again, or \`embedform rollback ${collection.name}\` to abandon it`,
  })
}

function reachedTarget(ctx: EngineContext, cp: CollectionPlan, collection: Collection, state: LiveState): boolean {
  if (state.journal || state.live !== cp.to.generation) return false
  const change = classify(collection, cp.profile, state, ctx.config).change
  return change === 'none' || change === 'runtime-only'
}

/**
 * Refuse before touching anything: every collection must be as planned or resuming this very
 * plan. Collections run in plan order, so when a later collection's journal shows this plan in
 * progress, earlier ones that already are at the planned generation were finished by it: they
 * are returned as done rather than refused as stale.
 */
async function checkFresh(ctx: EngineContext, plan: Plan, work: { cp: CollectionPlan; collection: Collection; adapter: StoreAdapter }[]): Promise<Set<string>> {
  const states = await Promise.all(work.map((w) => w.adapter.inspect(w.collection)))
  const resumeAt = states.findIndex((s) => s.journal?.planId === plan.id)
  const finished = new Set<string>()
  work.forEach(({ cp, collection }, i) => {
    const state = states[i] as LiveState
    if (state.journal && state.journal.planId !== plan.id) throw inProgressError(state.journal, collection)
    if (state.journal || state.version === cp.liveVersion) return
    if (i < resumeAt && reachedTarget(ctx, cp, collection, state)) finished.add(cp.collection)
    else throw staleError(cp, collection)
  })
  return finished
}

async function applyCollection(
  ctx: EngineContext,
  plan: Plan,
  cp: CollectionPlan,
  collection: Collection,
  adapter: StoreAdapter,
  encoders: EncoderPool,
  opts: ApplyOptions,
): Promise<CollectionApplyResult> {
  const emit = (e: ProgressEvent): void => ctx.onEvent?.(e)
  const release = await adapter.lock(collection, ctx.holder)
  try {
    let journal = await adapter.readJournal(collection)
    if (journal && journal.planId !== plan.id) throw inProgressError(journal, collection)
    if (!journal) {
      // Re-checked under the lock: another apply may have finished between checkFresh and here.
      if ((await adapter.inspect(collection)).version !== cp.liveVersion) throw staleError(cp, collection)
      const now = new Date().toISOString()
      journal = { planId: plan.id, collection: collection.name, generation: cp.to.generation, done: [], startedAt: now, updatedAt: now, stats: {} }
    } else {
      emit({ type: 'log', level: 'info', message: `resuming plan ${plan.id} on ${collection.name}: ${journal.done.length} of ${cp.steps.length} steps done` })
    }

    const stats = { ...journal.stats }
    const before = { rowsWritten: stats.rowsWritten ?? 0, catchUpPasses: stats.catchUpPasses ?? 0 }
    const sc: StepContext = {
      ctx,
      plan: cp,
      collection,
      adapter,
      encoder: cp.change === 'new-generation' || cp.change === 'cutover-retained' ? encoders.get(cp.profile) : undefined,
      opts,
      emit,
      stats,
      throttle: collectionThrottle(adapter, collection, opts.throttle ?? {}, (reason) =>
        emit({ type: 'log', level: reason ? 'warn' : 'info', message: `${new Date().toISOString()} ${collection.name}: ${reason ? `throttled: ${describeReason(reason)}` : 'running at full speed again'}` }),
      ),
    }
    const ran: string[] = []
    const resumed: string[] = []
    const save = async (j: Journal): Promise<Journal> => {
      // `embedform pause`/`resume` write the control record while this apply runs: keep theirs.
      const control = (await adapter.readJournal(collection))?.control
      const next = { ...j, ...(control ? { control } : {}), stats: { ...stats }, updatedAt: new Date().toISOString() }
      await adapter.writeJournal(collection, next)
      return next
    }

    for (const step of cp.steps) {
      if (journal.done.includes(step.id)) {
        resumed.push(step.id)
        continue
      }
      throwIfAborted(opts.signal)
      if (step.kind === 'cutover' && opts.hold) return await holdBeforeCutover(sc, journal, step.id, save, { ran, resumed, before })
      const { failed: _previousFailure, held: _held, ...rest } = journal
      journal = await save({ ...rest, current: step.id })
      const started = Date.now()
      emit({ type: 'step-start', step: step.id, title: step.title, ...(step.estimate.rows === undefined ? {} : { total: step.estimate.rows }) })
      try {
        await runStep(sc, step)
      } catch (err) {
        await recordFailure(adapter, collection, journal, step.id, err, stats)
        throw err
      }
      const { current: _done, ...settled } = journal
      journal = await save({ ...settled, done: [...journal.done, step.id] })
      ran.push(step.id)
      emit({ type: 'step-end', step: step.id, ms: Date.now() - started, detail: { ...stats } })
    }
    await adapter.writeJournal(collection, null)
    return {
      collection: collection.name,
      change: cp.change,
      generation: cp.to.generation,
      ran,
      resumed,
      rowsWritten: (stats.rowsWritten ?? 0) - before.rowsWritten,
      catchUpPasses: (stats.catchUpPasses ?? 0) - before.catchUpPasses,
      ...(sc.gate ? { gate: sc.gate } : {}),
    }
  } finally {
    await release()
  }
}

/**
 * `apply --hold`: everything up to the cutover is done (verify and the gate passed). One more
 * catch-up round leaves the candidate as fresh as the live generation, the journal records the
 * hold, and the migration lock is released: `embedform shadow` compares both generations on real
 * queries, `embedform cutover` switches. Running `apply --hold` again only catches up again.
 */
async function holdBeforeCutover(
  sc: StepContext,
  journal: Journal,
  cutoverStep: string,
  save: (j: Journal) => Promise<Journal>,
  progress: { ran: string[]; resumed: string[]; before: { rowsWritten: number; catchUpPasses: number } },
): Promise<CollectionApplyResult> {
  const catchUpStep = sc.plan.steps.find((s) => s.kind === 'catch-up')
  if (catchUpStep) await runStep(sc, catchUpStep)
  const { current: _current, ...rest } = journal
  await save({ ...rest, held: journal.held ?? { step: cutoverStep, since: new Date().toISOString() } })
  sc.emit({
    type: 'log',
    level: 'info',
    message: `holding before the cutover of ${sc.collection.name} to g${sc.plan.to.generation}: verified${sc.plan.profile.gate ? ' and gated' : ''}, caught up; \`embedform shadow --queries FILE\` compares it with the live generation, \`embedform cutover\` switches`,
  })
  return {
    collection: sc.collection.name,
    change: sc.plan.change,
    generation: sc.plan.from?.generation ?? sc.plan.to.generation,
    ran: progress.ran,
    resumed: progress.resumed,
    rowsWritten: (sc.stats.rowsWritten ?? 0) - progress.before.rowsWritten,
    catchUpPasses: (sc.stats.catchUpPasses ?? 0) - progress.before.catchUpPasses,
    ...(sc.gate ? { gate: sc.gate } : {}),
    held: true,
  }
}

/** Best effort: the journal says why apply stopped; if the store is what failed, the original error still wins. */
async function recordFailure(adapter: StoreAdapter, c: Collection, journal: Journal, step: string, err: unknown, stats: Record<string, number>): Promise<void> {
  const code = isEmbedformError(err) ? err.code : 'E_STEP_FAILED'
  const message = err instanceof Error ? err.message : String(err)
  try {
    await adapter.writeJournal(c, { ...journal, stats: { ...stats }, updatedAt: new Date().toISOString(), failed: { step, code, message } })
  } catch {
    // The step's own error is what the user needs; a store that cannot take the journal fails the same way.
  }
}

export async function applyPlan(ctx: EngineContext, plan: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const started = Date.now()
  const work = await Promise.all(
    plan.collections.map(async (cp) => {
      const collection = collectionOf(ctx, plan, cp)
      return { cp, collection, adapter: await ctx.adapterFor(collection.store) }
    }),
  )
  const changing = work.filter((w) => w.cp.steps.length > 0)
  const finished = await checkFresh(ctx, plan, changing)
  const encoders = await openEncoders(ctx, changing.filter((w) => !finished.has(w.cp.collection)).map((w) => w.cp))
  try {
    const results: CollectionApplyResult[] = []
    for (const { cp, collection, adapter } of work) {
      if (cp.steps.length === 0 || finished.has(cp.collection)) {
        const resumed = finished.has(cp.collection) ? cp.steps.map((s) => s.id) : []
        results.push({ collection: cp.collection, change: cp.change, generation: cp.to.generation, ran: [], resumed, rowsWritten: 0, catchUpPasses: 0 })
        continue
      }
      results.push(await applyCollection(ctx, plan, cp, collection, adapter, encoders, opts))
    }
    return { planId: plan.id, collections: results, ms: Date.now() - started }
  } catch (err) {
    if (isEmbedformError(err)) throw err
    throw failure('E_APPLY_FAILED', `apply of plan ${plan.id} failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      hint: 'progress is kept in the journal; run the same apply again to resume',
    })
  } finally {
    await encoders.close()
  }
}
