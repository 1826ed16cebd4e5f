import { failure, isEmbedformError } from '../core/errors.js'

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw failure('E_ABORTED', 'apply was interrupted; progress is kept in the journal', {
      hint: 'run the same apply again to resume where it stopped',
    })
  }
}

/**
 * Up to `retries` more attempts with exponential backoff. Input errors (wrong dimensions, bad
 * identifiers) are not transient, so they fail at once.
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  opts: { retries: number; baseMs: number; signal?: AbortSignal; onRetry?: (attempt: number, err: unknown) => void },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= opts.retries || (isEmbedformError(err) && err.kind === 'input') || opts.signal?.aborted) throw err
      opts.onRetry?.(attempt + 1, err)
      await sleep(opts.baseMs * 2 ** attempt, opts.signal)
    }
  }
}
