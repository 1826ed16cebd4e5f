import { generationProfile } from '../eval/evaluate.js'
import type { EncoderOptions } from '../encoder/types.js'
import type { EngineContext } from '../plan/types.js'
import { type GenerationSelector, selectGeneration } from './generation.js'
import { type OpenReranker, type SearchResult, openSearchModels, search } from './search.js'
import { openTarget } from './target.js'

export interface SearchRequest {
  query: string
  collection?: string
  generation: Exclude<GenerationSelector, { kind: 'all' }>
  k?: number
  /** undefined: the generation profile's reranker.enabled. */
  rerank?: boolean
  hybrid: boolean
  openReranker: OpenReranker
  encoderOptions?: EncoderOptions
}

/** One search as `embedform search` runs it: resolve collection and generation, open its models, query, close. */
export async function searchCollection(ctx: EngineContext, req: SearchRequest): Promise<SearchResult> {
  const { collection, adapter, state } = await openTarget(ctx, req.collection)
  const generation = selectGeneration(state, req.generation)
  const profile = generationProfile(generation, collection, ctx.config)
  const models = await openSearchModels(profile, {
    rerank: req.rerank ?? profile.reranker?.enabled ?? false,
    openEncoder: ctx.openEncoder,
    openReranker: req.openReranker,
    ...(req.encoderOptions ? { encoderOptions: req.encoderOptions } : {}),
  })
  try {
    return await search({ adapter, collection, generation, models, query: req.query, ...(req.k !== undefined ? { k: req.k } : {}), hybrid: req.hybrid })
  } finally {
    await models.close()
  }
}
