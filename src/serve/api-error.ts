/**
 * Errors as HTTP answers in the shape OpenAI clients parse:
 * `{"error": {"message", "type", "param", "code"}}`. Every 4xx/5xx the server sends has it, so an
 * app's existing error handling (and the openai client's exception classes) keep working.
 */
import { type EmbedformError, formatLocation } from '../core/errors.js'

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error'

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Seconds a client should wait before retrying (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

export function badRequest(message: string, param: string | null, code = 'invalid_value'): ApiError {
  return new ApiError(400, 'invalid_request_error', message, param, code)
}

/**
 * Library errors crossing the HTTP edge: bad input stays a 400 with the library's message and
 * hint (they name what to change); anything else is the server's fault.
 */
export function fromEmbedformError(e: EmbedformError, param: string | null = null): ApiError {
  const where = formatLocation(e.location)
  const message = `${e.message}${where ? ` (${where})` : ''}${e.hint ? `; ${e.hint}` : ''}`
  return e.kind === 'input' ? new ApiError(400, 'invalid_request_error', message, param, e.code) : new ApiError(500, 'server_error', message, null, e.code)
}
