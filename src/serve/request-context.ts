/**
 * Per-request deadline and cancellation: one AbortSignal that fires when the request's time is up
 * (answered with 504) or when the client goes away, so its texts leave the queue instead of being
 * encoded for nobody. It covers the waits that grow with load (the encode and rerank queues);
 * loading a model and reading the store are bounded by their own timeouts.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from './api-error.js'

const controllers = new WeakMap<FastifyRequest, AbortController>()

export function startDeadline(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): void {
  const controller = new AbortController()
  controllers.set(request, controller)
  const timer = setTimeout(
    () => controller.abort(new ApiError(504, 'server_error', `the request did not finish within ${timeoutMs / 1000} s (--timeout); the server is overloaded or the input is too large`, null, 'timeout')),
    timeoutMs,
  )
  reply.raw.once('close', () => {
    clearTimeout(timer)
    if (!reply.raw.writableFinished) controller.abort(new ApiError(499, 'invalid_request_error', 'the client closed the connection', null, 'client_closed'))
  })
}

export function signalOf(request: FastifyRequest): AbortSignal | undefined {
  return controllers.get(request)?.signal
}

