/** What `embedform serve` is configured with: parsed once from flags, trusted everywhere else. */
export interface ServeOptions {
  host: string
  /** 0 picks a free port (the address is printed once listening). */
  port: number
  /** How often each collection's live generation is read from the store. */
  pollIntervalMs: number
  /**
   * false: each request is encoded alone (one encode call per request). Kept for comparison
   * (bench/serve.ts); cross-request batching is what makes concurrent single-text clients fast.
   */
  batching: boolean
  /**
   * Token budget of one encode call (text-embeddings-inference's max-batch-tokens), counted padded:
   * texts × the longest text's tokens, since that is what the model computes on.
   */
  maxBatchTokens: number
  /** Texts (or rerank passages) waiting per model before new requests get 429. */
  maxQueuedTexts: number
  /** Inputs per embeddings call, documents per rerank call. */
  maxInputs: number
  /** Characters per input text, query or document. */
  maxInputChars: number
  /** Deadline of one request, queueing included. */
  requestTimeoutMs: number
  /** Bearer token every route but /health requires; undefined: no auth. */
  apiKey?: string
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  pollIntervalMs: 2000,
  batching: true,
  maxBatchTokens: 16_384,
  maxQueuedTexts: 4096,
  maxInputs: 2048,
  maxInputChars: 16_384,
  requestTimeoutMs: 30_000,
} as const satisfies Omit<ServeOptions, 'apiKey'>

/** Environment variable holding the bearer token, unless --api-key-env names another. */
export const API_KEY_ENV = 'EMBEDFORM_API_KEY'

/**
 * A full call is at most maxInputs × maxInputChars characters, so the body limit follows from the
 * two (2 bytes a character leaves room for JSON escapes and most non-ASCII text); a body beyond it
 * gets 413 before it is parsed.
 */
export function bodyLimitBytes(o: Pick<ServeOptions, 'maxInputs' | 'maxInputChars'>): number {
  return o.maxInputs * (o.maxInputChars * 2 + 8) + 64 * 1024
}
