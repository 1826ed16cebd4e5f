/**
 * The HTTP surface. Fastify because it is Node-native (no adapter layer), closes gracefully
 * (stops accepting, answers 503 on kept-alive connections, waits for requests in flight), enforces
 * a body limit before parsing, and exposes route-level hooks for auth, deadlines and metrics —
 * everything the server needs without glue; its JSON handling is among the fastest on Node.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { type FastifyError, type FastifyInstance, fastify } from 'fastify'
import { isEmbedformError } from '../core/errors.js'
import type { EngineContext } from '../plan/types.js'
import { ApiError, fromEmbedformError } from './api-error.js'
import type { ServeMetrics } from './metrics.js'
import type { ModelPool } from './model-pool.js'
import { generationRef, type ModelRouter } from './model-router.js'
import { bodyLimitBytes, type ServeOptions } from './options.js'
import { startDeadline } from './request-context.js'
import { registerEmbeddings } from './routes/embeddings.js'
import { registerRerank } from './routes/rerank.js'
import { registerSearch } from './routes/search.js'

export interface ServerDeps {
  ctx: EngineContext
  router: ModelRouter
  pool: ModelPool
  options: ServeOptions
  metrics: ServeMetrics
  log: (message: string) => void
}

/** Routes anyone may call: probes must work without the token. */
const OPEN_ROUTES = new Set(['/health'])
/** Routes that report on the server rather than do work for a client. */
const PROBES = new Set(['/health', '/metrics'])

const digest = (s: string) => createHash('sha256').update(s).digest()

function bearerCheck(apiKey: string): (header: string | undefined) => boolean {
  const expected = digest(apiKey)
  return (header) => {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
    // Equal-length digests, so the comparison takes the same time whatever the guess.
    return m !== null && timingSafeEqual(digest((m[1] as string).trim()), expected)
  }
}

/** Fastify's own request errors, under the names an API client can act on. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
}

/** Any error a handler throws, as the status and OpenAI-style body the client gets. */
function toApiError(err: unknown, log: (m: string) => void): ApiError {
  if (err instanceof ApiError) return err
  if (isEmbedformError(err)) return fromEmbedformError(err)
  const f = err as Partial<FastifyError>
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    const code = f.code === undefined ? null : (FASTIFY_CODES[f.code] ?? f.code.toLowerCase())
    return new ApiError(f.statusCode, 'invalid_request_error', f.message ?? 'bad request', null, code)
  }
  log(`internal error: ${(err as Error)?.stack ?? String(err)}`)
  return new ApiError(500, 'server_error', `internal error: ${(err as Error)?.message ?? String(err)}`)
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { ctx, router, pool, options, metrics, log } = deps
  const app = fastify({ bodyLimit: bodyLimitBytes(options), logger: false, return503OnClosing: true, forceCloseConnections: 'idle' })
  const authorized = options.apiKey ? bearerCheck(options.apiKey) : undefined
  /** Work requests between arrival and response: what a graceful shutdown waits for. */
  let inFlight = 0
  metrics.gauge('embedform_serve_requests_in_flight', 'Requests received and not yet answered (probes excluded).', () => [{ labels: {}, value: inFlight }])

  app.addHook('onRequest', async (request, reply) => {
    if (!PROBES.has(request.routeOptions.url ?? '')) {
      inFlight++
      reply.raw.once('close', () => inFlight--)
    }
    if (authorized && !OPEN_ROUTES.has(request.routeOptions.url ?? '') && !authorized(request.headers.authorization)) {
      throw new ApiError(
        401,
        'invalid_request_error',
        request.headers.authorization ? 'Incorrect API key provided.' : "You didn't provide an API key: send it as `Authorization: Bearer <key>`.",
        null,
        'invalid_api_key',
      )
    }
    startDeadline(request, reply, options.requestTimeoutMs)
  })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.requests.inc({ route, code: String(reply.statusCode) })
    metrics.requestSeconds.observe(reply.elapsedTime / 1000, { route })
  })

  app.setErrorHandler((err, _request, reply) => {
    const e = toApiError(err, log)
    if (e.code === 'queue_full' || e.code === 'timeout' || e.code === 'invalid_api_key') metrics.rejected.inc({ reason: e.code })
    if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter))
    if (e.status === 401) reply.header('www-authenticate', 'Bearer')
    return reply.status(e.status).send(e.body())
  })

  app.setNotFoundHandler((request, reply) => {
    const e = new ApiError(404, 'invalid_request_error', `Invalid URL (${request.method} ${request.url}): routes are POST /v1/embeddings, POST /v1/rerank, POST /rerank, POST /v1/collections/{name}/search, GET /v1/models, GET /health, GET /metrics`, null, 'unknown_url')
    return reply.status(404).send(e.body())
  })

  registerEmbeddings(app, router, options)
  registerRerank(app, ctx.config, router, options)
  registerSearch(app, ctx, router, pool, options)

  app.get('/v1/models', async () => {
    const { collections, profiles } = router.names()
    return {
      object: 'list',
      data: [...collections.map((id) => ({ id, kind: 'collection' })), ...profiles.map((id) => ({ id, kind: 'profile' }))].map((m) => ({ ...m, object: 'model', created: 0, owned_by: 'embedform' })),
    }
  })

  app.get('/health', async () => {
    const collections = Object.keys(ctx.config.collections).map((name) => {
      const m = router.current(name)
      return m?.kind === 'ready' ? { collection: name, status: 'ready', ...generationRef(m) } : { collection: name, status: 'unavailable', reason: m?.reason ?? 'loading' }
    })
    return {
      status: collections.every((c) => c.status === 'ready') ? 'ok' : 'degraded',
      inFlight,
      collections,
      models: pool.loaded.map((s) => ({ profile: s.profile.name, fingerprint: s.fingerprint, queued: s.depth })),
    }
  })

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    return metrics.render()
  })

  return app
}
