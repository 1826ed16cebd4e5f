/**
 * `embedform serve` as a library: load each collection's live model, start following cutovers,
 * listen. close() shuts down in the order that loses nothing: stop taking requests and finish those
 * in flight, stop polling, then let every model drain and close, then the stores.
 */
import { inputError } from '../core/errors.js'
import { openReranker } from '../encoder/index.js'
import type { OpenEncoder } from '../encoder/types.js'
import type { EngineContext } from '../plan/types.js'
import type { ServeListener } from './events.js'
import { LiveFollower } from './live-follower.js'
import { ServeMetrics } from './metrics.js'
import { ModelPool } from './model-pool.js'
import { generationRef, ModelRouter } from './model-router.js'
import type { ServeOptions } from './options.js'
import { buildServer } from './server.js'

export { SERVE_DEFAULTS, API_KEY_ENV, type ServeOptions } from './options.js'
export type { ServeEvent, ServeListener, GenerationRef } from './events.js'
export { openWorkerEncoder } from './worker-encoder.js'

export interface Serving {
  url: string
  close(): Promise<void>
}

export interface ServeDeps {
  onEvent?: ServeListener
  /** Where unexpected server errors are logged. */
  log?: (message: string) => void
  /**
   * How models are opened; default the context's (in this thread). The serve command passes
   * openWorkerEncoder so encoding never blocks the event loop.
   */
  openEncoder?: OpenEncoder
}

export async function startServe(ctx: EngineContext, options: ServeOptions, deps: ServeDeps = {}): Promise<Serving> {
  const onEvent = deps.onEvent ?? (() => undefined)
  const log = deps.log ?? (() => undefined)
  const metrics = new ServeMetrics()
  const pool = new ModelPool({
    openEncoder: deps.openEncoder ?? ctx.openEncoder,
    openReranker,
    ...(ctx.encoderOptions ? { encoderOptions: ctx.encoderOptions } : {}),
    options,
    metrics,
  })
  const router = new ModelRouter(ctx.config, pool, Math.max(1, Math.ceil(options.pollIntervalMs / 1000)))
  metrics.gauge('embedform_serve_queue_depth', 'Texts and rerank passages waiting, by loaded profile.', () =>
    pool.loaded.map((s) => ({ labels: { profile: s.profile.name, fingerprint: s.fingerprint }, value: s.depth })),
  )
  metrics.gauge('embedform_serve_live_generation', 'Live generation each collection is encoding with (0: none).', () =>
    Object.keys(ctx.config.collections).map((c) => {
      const m = router.current(c)
      const ref = m ? generationRef(m) : null
      return { labels: { collection: c, fingerprint: ref?.fingerprint ?? '' }, value: ref?.generation ?? 0 }
    }),
  )
  metrics.gauge('embedform_serve_models_loaded', 'Models (encoder sessions) loaded.', () => [{ labels: {}, value: pool.loaded.length }])

  const follower = new LiveFollower(ctx, router, pool, options.pollIntervalMs, metrics, onEvent)
  try {
    await follower.start()
  } catch (e) {
    await follower.stop()
    await router.close()
    throw e
  }
  const app = buildServer({ ctx, router, pool, options, metrics, log })
  let url: string
  try {
    url = await app.listen({ host: options.host, port: options.port })
  } catch (e) {
    await follower.stop()
    await router.close()
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw inputError('E_LISTEN', `cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`, {
        location: { path: code === 'EADDRNOTAVAIL' ? '--host' : '--port' },
        hint: code === 'EADDRINUSE' ? 'another process uses this port: pass --port N (0 picks a free one)' : 'pick another --host/--port',
      })
    }
    throw e
  }
  onEvent({
    type: 'listening',
    url,
    batching: options.batching,
    pollIntervalMs: options.pollIntervalMs,
    auth: options.apiKey !== undefined,
    collections: Object.keys(ctx.config.collections).map((c) => {
      const m = router.current(c)
      return { collection: c, live: m ? generationRef(m) : null, ...(m?.kind === 'unavailable' ? { reason: m.reason } : {}) }
    }),
  })

  let closing: Promise<void> | undefined
  return {
    url,
    close() {
      closing ??= (async () => {
        await app.close()
        await follower.stop()
        await router.close()
      })()
      return closing
    },
  }
}
