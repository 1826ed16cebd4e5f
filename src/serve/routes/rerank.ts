/**
 * Reranking with the profile's cross-encoder in the shapes rerank clients already speak:
 * POST /v1/rerank as Cohere / Jina define it (`documents`, `top_n`, `return_documents` →
 * `results[].relevance_score`), and POST /rerank as text-embeddings-inference does (`texts`,
 * `return_text`, `raw_scores` → a bare array of `{index, score, text}`). Scores are sigmoid(logit)
 * in [0, 1] unless `raw_scores` asks for the logits; the order is the same either way.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pickCollection } from '../../cli/engine-context.js'
import type { Config } from '../../core/types.js'
import { isEmbedformError } from '../../core/errors.js'
import type { RerankResult } from '../../encoder/types.js'
import { fromEmbedformError } from '../api-error.js'
import type { ModelRouter, Route } from '../model-router.js'
import type { ServeOptions } from '../options.js'
import { signalOf } from '../request-context.js'
import { parseRerankRequest, type RerankRequest } from '../request-parse.js'
import { setModelHeaders } from './model-headers.js'

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

/** No `model`: the only configured collection, as the CLI picks it. */
function modelName(config: Config, req: RerankRequest): string {
  if (req.model !== undefined) return req.model
  try {
    return pickCollection(config, undefined)
  } catch (e) {
    if (isEmbedformError(e)) throw fromEmbedformError(e, 'model')
    throw e
  }
}

export function registerRerank(app: FastifyInstance, config: Config, router: ModelRouter, options: ServeOptions): void {
  const rank = async (body: unknown, signal: AbortSignal | undefined, onRoute: (r: Route) => void): Promise<{ req: RerankRequest; model: string; results: RerankResult[] }> => {
    const req = parseRerankRequest(body, options)
    const model = modelName(config, req)
    const route = await router.acquire(model)
    try {
      const results = await route.slot.rerank(req.query, req.documents, req.topN ?? req.documents.length, 'model', signal)
      onRoute(route)
      return { req, model, results }
    } finally {
      route.release()
    }
  }
  const score = (req: RerankRequest, r: RerankResult) => (req.rawScores ? r.score : sigmoid(r.score))

  app.post('/v1/rerank', async (request, reply) => {
    const { req, model, results } = await rank(request.body, signalOf(request), (route) => setModelHeaders(reply, route))
    return {
      id: randomUUID(),
      model,
      results: results.map((r) => ({ index: r.index, relevance_score: score(req, r), ...(req.returnDocuments ? { document: { text: req.documents[r.index] } } : {}) })),
    }
  })

  app.post('/rerank', async (request, reply) => {
    const { req, results } = await rank(request.body, signalOf(request), (route) => setModelHeaders(reply, route))
    return results.map((r) => ({ index: r.index, score: score(req, r), ...(req.returnDocuments ? { text: req.documents[r.index] } : {}) }))
  })
}
