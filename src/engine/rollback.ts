/**
 * rollback: switch readers back to a retained generation: a rename or an alias switch in the
 * store, plus re-embedding exactly the rows that changed while it was not live. An apply that
 * had not cut over yet is abandoned instead.
 */
import { failure, inputError, isEmbedformError } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState, LiveState } from '../store/adapter.js'
import { batchRows } from '../store/batch-rows.js'
import type { RollbackResult } from '../apply/types.js'
import { pump } from '../apply/pump.js'
import { MAX_CATCHUP_PASSES } from '../apply/steps.js'
import { DEFAULT_MAX_HOLD_MS, switchGeneration } from '../apply/switch.js'
import { zeroVectorPolicy } from '../core/zero-vectors.js'

function pickTarget(name: string, state: LiveState, to: number | undefined): GenerationState {
  const retained = state.generations.filter((g) => g.status === 'retained').sort((a, b) => b.id - a.id)
  if (to !== undefined) {
    const g = state.generations.find((x) => x.id === to)
    if (!g || g.status !== 'retained') {
      throw inputError('E_ROLLBACK_TARGET', `collection "${name}" has no retained generation g${to}${g ? ` (g${to} is ${g.status})` : ''}`, {
        hint: retained.length ? `retained: ${retained.map((x) => `g${x.id}`).join(', ')}` : 'nothing is retained',
      })
    }
    return g
  }
  // The newest generation older than the live one is the one readers used before the last cutover.
  const live = state.live ?? Number.POSITIVE_INFINITY
  const target = retained.find((g) => g.id < live) ?? retained[0]
  if (!target) {
    throw inputError('E_NOTHING_RETAINED', `collection "${name}" has no retained generation to roll back to`, {
      hint: 'generations are retained by each apply that cuts over, until `embedform gc` drops them',
    })
  }
  return target
}

export interface RollbackOptions {
  to?: number
  /** Switch even when rows changed while the target was not live cannot be re-embedded (model not loadable). */
  acceptStale?: boolean
  maxHoldMs?: number
  batchSize?: number
  /**
   * Stops the re-embedding after the batch in flight, before the switch (E_INTERRUPTED). Once
   * the switch holds the application's writes it finishes: it is bounded by maxHoldMs.
   */
  signal?: AbortSignal
}

/**
 * Rows edited or inserted while the target was not live have stale or no vectors in it: they
 * are embedded with the target's own profile (its snapshot) before and during the switch, so a
 * rollback serves current vectors. Only when that profile cannot be loaded here (an adopted
 * generation of unknown model) does it take `acceptStale`, and says how many rows stay stale.
 */
export async function rollback(ctx: EngineContext, collectionName: string, opts: RollbackOptions = {}): Promise<RollbackResult> {
  const [c] = selectCollections(ctx, [collectionName])
  if (!c) throw failure('E_INTERNAL', `collection ${collectionName} not resolved`)
  const adapter = await ctx.adapterFor(c.store)
  const log = (level: 'info' | 'warn', message: string) => ctx.onEvent?.({ type: 'log', level, message })
  const release = await adapter.lock(c, ctx.holder)
  try {
    let state = await adapter.inspect(c)
    const warnings: string[] = []
    const journal = await adapter.readJournal(c)
    if (journal) {
      // Not cut over yet: readers never saw the new work, so undoing the apply means abandoning it.
      const beforeCutover = state.live !== journal.generation
      const building = state.generations.find((g) => g.id === journal.generation && g.status === 'building')
      if (building) await adapter.dropGeneration(c, building.id)
      await adapter.writeJournal(c, null)
      log('info', `abandoned apply of plan ${journal.planId} on ${c.name}${building ? ` and dropped building g${building.id}` : ''}`)
      if (beforeCutover && opts.to === undefined) {
        return { collection: c.name, from: state.live, to: state.live, abandoned: { planId: journal.planId, generation: journal.generation }, missing: 0, stale: 0, reembedded: 0, leftStale: 0, warnings }
      }
      state = await adapter.inspect(c)
    }
    const target = pickTarget(c.name, state, opts.to)
    // `gc --indexes` dropped its index to speed a backfill up: rebuild it before readers use it.
    let indexRebuildMs: number | undefined
    if (target.indexSettings && !target.index?.valid) {
      log('info', `g${target.id} has no valid index: rebuilding it before switching (readers keep the current generation meanwhile)`)
      const started = performance.now()
      await adapter.buildIndex(c, target.id)
      indexRebuildMs = performance.now() - started
    }
    const before = await adapter.freshness(c, target.id)
    const behind = before.stale + before.missing
    const encoder = behind > 0 && target.profileSnapshot ? await ctx.openEncoder(target.profileSnapshot, ctx.encoderOptions) : undefined
    if (behind > 0 && !encoder && !opts.acceptStale) {
      throw inputError(
        'E_ROLLBACK_STALE',
        `g${target.id} of ${c.name} has ${before.stale.toLocaleString('en-US')} stale and ${before.missing.toLocaleString('en-US')} missing rows (written while it was not live), and its model is unknown to embedform, so they cannot be re-embedded`,
        {
          location: { object: `generation g${target.id} of ${c.target}` },
          hint: `roll back anyway with \`embedform rollback ${c.name} --accept-stale\` (those rows keep old or no vectors), or keep the live generation`,
        },
      )
    }
    let reembedded = 0
    try {
      if (encoder) log('info', `g${target.id} has ${before.stale} stale and ${before.missing} missing rows (changed while it was not live): re-embedding them with profile ${target.profileSnapshot?.name}`)
      const pass = async (phase: 'backfill' | 'catchup'): Promise<{ found: number; rate: number | undefined }> => {
        const started = performance.now()
        const { found } = await pump({
          adapter,
          collection: c,
          generation: target.id,
          encoder: encoder!,
          zeroVectors: zeroVectorPolicy(target.profileSnapshot),
          phase,
          batchSize: batchRows(opts.batchSize, adapter.capabilities, target.dimensions),
          retryBaseMs: 500,
          writeOptions: { live: false },
          ...(opts.signal ? { signal: opts.signal } : {}),
        })
        reembedded += found
        const seconds = (performance.now() - started) / 1000
        return { found, rate: found >= 50 && seconds > 0 ? found / seconds : undefined }
      }
      const interrupted = (cause: unknown) =>
        failure('E_INTERRUPTED', `rollback of ${c.name} was interrupted before the switch: ${state.live === null ? 'no generation' : `g${state.live}`} is still live; the ${reembedded.toLocaleString('en-US')} row(s) of g${target.id} re-embedded so far are kept${journal ? ` (the apply of plan ${journal.planId} was abandoned)` : ''}`, {
          location: { object: `generation g${target.id} of ${c.target}` },
          hint: `run \`embedform rollback ${c.name} --to g${target.id}\` again: it re-embeds only the rows still stale or missing`,
          cause,
        })
      try {
        if (encoder) await pass('backfill')
        if (opts.signal?.aborted) throw interrupted(undefined)
      } catch (err) {
        if (isEmbedformError(err) && err.code === 'E_ABORTED') throw interrupted(err)
        throw err
      }
      const done = await switchGeneration({
        adapter,
        collection: c,
        generation: target.id,
        encoder,
        zeroVectors: zeroVectorPolicy(target.profileSnapshot),
        maxHoldMs: opts.maxHoldMs ?? DEFAULT_MAX_HOLD_MS,
        acceptStale: opts.acceptStale === true,
        catchUp: async (enough) => {
          let rate: number | undefined
          for (let i = 0; i < MAX_CATCHUP_PASSES; i++) {
            const r = await pass('catchup').catch((err: unknown) => {
              throw isEmbedformError(err) && err.code === 'E_ABORTED' ? interrupted(err) : err
            })
            rate = r.rate ?? rate
            if (r.found <= enough) break
          }
          return rate
        },
        onBehind: (attempt, pending) => log('info', `rollback attempt ${attempt}: ${pending} rows pending; catching up again`),
      })
      reembedded += done.embeddedWhileHeld
      if (done.leftStale > 0) {
        warnings.push(`${done.leftStale.toLocaleString('en-US')} rows of g${target.id} keep stale or no vectors (--accept-stale); they stay queued, and \`embedform status\` counts them`)
      }
      return {
        collection: c.name,
        from: state.live,
        to: target.id,
        ...(journal ? { abandoned: { planId: journal.planId, generation: journal.generation } } : {}),
        missing: before.missing,
        stale: before.stale,
        reembedded,
        leftStale: done.leftStale,
        heldMs: done.heldMs,
        ...(indexRebuildMs === undefined ? {} : { indexRebuildMs }),
        warnings,
      }
    } finally {
      await encoder?.close()
    }
  } finally {
    await release()
  }
}
