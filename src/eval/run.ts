import type { EncoderOptions } from '../encoder/types.js'
import type { EngineContext } from '../plan/types.js'
import { type GenerationSelector, selectGenerations } from '../search/generation.js'
import { openTarget } from '../search/target.js'
import { type EvalReport, evaluateGenerations } from './evaluate.js'
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

/** `embedform eval` as a library call: the generations the store holds now, scored on a query set. */
export async function evaluateCollection(ctx: EngineContext, req: EvalRequest): Promise<EvalReport> {
  const { collection, adapter, state } = await openTarget(ctx, req.collection)
  return evaluateGenerations({
    adapter,
    collection,
    config: ctx.config,
    available: state.generations,
    targets: selectGenerations(state, req.generation),
    queries: req.queries,
    ...(req.qrels ? { qrels: req.qrels } : {}),
    cutoffs: req.cutoffs,
    openEncoder: ctx.openEncoder,
    ...(req.encoderOptions ? { encoderOptions: req.encoderOptions } : {}),
  })
}
