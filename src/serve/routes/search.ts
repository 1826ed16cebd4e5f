/**
 * POST /v1/collections/{name}/search: `embedform search` over HTTP, through the same search()
 * (src/search) — query encoded with the generation's own profile, kNN or hybrid retrieval, optional
 * rerank — with the query going through the shared encode queue. Body: query, k, rerank, hybrid,
 * generation (live or gN). The answer is what `embedform search --json` prints.
 */
import type { FastifyInstance } from 'fastify'
import type { Collection, Config } from '../../core/types.js'
import { isEmbedformError } from '../../core/errors.js'
import { generationProfile } from '../../eval/evaluate.js'
import type { EngineContext } from '../../plan/types.js'
import { selectGeneration } from '../../search/generation.js'
import { type SearchModels, search } from '../../search/search.js'
import { ApiError, badRequest, fromEmbedformError } from '../api-error.js'
import type { ModelPool } from '../model-pool.js'
import type { CollectionRoute, ModelRouter, Route } from '../model-router.js'
import type { ServeOptions } from '../options.js'
import { signalOf } from '../request-context.js'
import { parseSearchBody } from '../request-parse.js'
import { setModelHeaders } from './model-headers.js'

function models(route: Route, rerank: boolean, signal: AbortSignal | undefined): SearchModels {
  const { profile } = route.slot
  if (rerank && !profile.reranker) throw badRequest(`profile "${profile.name}" of this generation declares no reranker; search without 'rerank'`, 'rerank', 'reranker_not_configured')
  return {
    profile,
    encoder: route.slot.batchedEncoder(signal),
    ...(rerank && profile.reranker ? { reranker: { model: route.slot.queuedReranker(signal), settings: profile.reranker } } : {}),
    // Models stay loaded in the server: nothing is opened per search.
    loadMs: 0,
    async close() {},
  }
}

export function registerSearch(app: FastifyInstance, ctx: EngineContext, router: ModelRouter, pool: ModelPool, options: ServeOptions): void {
  const config: Config = ctx.config

  /** A route onto a generation named by id (building, retained, or live): its profile loaded for this request. */
  async function generationRoute(collection: Collection, id: number): Promise<CollectionRoute> {
    const state = await (await ctx.adapterFor(collection.store)).inspect(collection)
    const generation = selectGeneration(state, { kind: 'id', id })
    const lease = await pool.lease(generationProfile(generation, collection, config))
    return { slot: lease.slot, fingerprint: generation.fingerprint ?? lease.slot.fingerprint, collection: collection.name, generation, release: lease.release }
  }

  app.post<{ Params: { name: string } }>('/v1/collections/:name/search', async (request, reply) => {
    const name = request.params.name
    const collection = config.collections[name]
    if (!collection) {
      throw new ApiError(404, 'invalid_request_error', `collection "${name}" is not configured; collections: ${Object.keys(config.collections).join(', ') || 'none'}`, null, 'collection_not_found')
    }
    const body = parseSearchBody(request.body, options)
    let route: CollectionRoute
    try {
      route = body.generation.kind === 'live' ? router.acquireCollection(name, null) : await generationRoute(collection, body.generation.id)
    } catch (e) {
      if (isEmbedformError(e)) throw fromEmbedformError(e, 'generation')
      throw e
    }
    try {
      const signal = signalOf(request)
      const rerank = body.rerank ?? route.slot.profile.reranker?.enabled ?? false
      const result = await search({
        adapter: await ctx.adapterFor(collection.store),
        collection,
        generation: route.generation,
        models: models(route, rerank, signal),
        query: body.query,
        ...(body.k !== undefined ? { k: body.k } : {}),
        hybrid: body.hybrid,
      })
      setModelHeaders(reply, route)
      return result
    } finally {
      route.release()
    }
  })
}
