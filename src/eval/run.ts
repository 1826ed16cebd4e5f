import type { EncoderOptions } from '../encoder/types.js'
import type { EngineContext } from '../plan/types.js'
import { type GenerationSelector, selectGenerations } from '../search/generation.js'
import { openTarget } from '../search/target.js'
import { type EmbedformError, isEmbedformError } from '../core/errors.js'
import type { GenerationState } from '../store/adapter.js'
import { type EvalReport, evaluateGenerations, generationProfile } from './evaluate.js'
import type { Query } from './formats.js'
import type { Qrels } from './metrics.js'

export interface EvalRequest {
  queries: readonly Query[]
  qrels?: Qrels
  cutoffs: readonly number[]
  generation: GenerationSelector
  collection?: string
  encoderOptions?: EncoderOptions
}

export interface EvalOutcome extends EvalReport {
  /** Generations `all` left out: adopted vectors of an unknown model cannot be queried. */
  skipped: { generation: number; reason: string; hint?: string }[]
}

/**
 * `embedform eval` as a library call: the generations the store holds now, scored on a query set.
 * With `all`, a generation whose model is unknown is skipped and reported; named explicitly, it fails.
 */
export async function evaluateCollection(ctx: EngineContext, req: EvalRequest): Promise<EvalOutcome> {
  const { collection, adapter, state } = await openTarget(ctx, req.collection)
  const selected = selectGenerations(state, req.generation)
  const unknown: { g: GenerationState; err: EmbedformError }[] = []
  const targets =
    req.generation.kind !== 'all'
      ? selected
      : selected.filter((g) => {
          try {
            generationProfile(g, collection, ctx.config)
            return true
          } catch (err) {
            if (!isEmbedformError(err) || err.code !== 'E_GENERATION_MODEL_UNKNOWN') throw err
            unknown.push({ g, err })
            return false
          }
        })
  if (targets.length === 0 && unknown[0]) throw unknown[0].err
  const skipped = unknown.map(({ g, err }) => ({ generation: g.id, reason: err.message, ...(err.hint ? { hint: err.hint } : {}) }))
  const report = await evaluateGenerations({
    adapter,
    collection,
    config: ctx.config,
    available: state.generations,
    targets,
    queries: req.queries,
    ...(req.qrels ? { qrels: req.qrels } : {}),
    cutoffs: req.cutoffs,
    openEncoder: ctx.openEncoder,
    ...(req.encoderOptions ? { encoderOptions: req.encoderOptions } : {}),
  })
  return { ...report, skipped }
}
