/**
 * One task at a time, in arrival order, with a bound on the work waiting. The reranker shares its
 * input buffers between calls just like the encoder, so its calls must never overlap; each rerank
 * request is one cross-encoder batch already, so there is nothing to merge across requests.
 */
import { ApiError } from './api-error.js'

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private waitingUnits = 0
  /** Units (passages) per second of recent tasks, for Retry-After. */
  private rate = 100

  constructor(private readonly maxUnits: number) {}

  get depth(): number {
    return this.waitingUnits
  }

  /** Runs `task` after every task queued before it; `units` counts against the queue bound. */
  run<T>(units: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.waitingUnits + units > this.maxUnits) {
      const retry = Math.min(60, Math.max(1, Math.ceil(this.waitingUnits / this.rate)))
      return Promise.reject(new ApiError(429, 'rate_limit_error', `the rerank queue is full (${this.waitingUnits} passages waiting, limit ${this.maxUnits}); retry after ${retry} s`, null, 'queue_full', retry))
    }
    this.waitingUnits += units
    const result = this.tail.then(async () => {
      this.waitingUnits -= units
      if (signal?.aborted) throw signal.reason
      const t0 = performance.now()
      try {
        return await task()
      } finally {
        const seconds = (performance.now() - t0) / 1000
        if (seconds > 0) this.rate = 0.7 * this.rate + 0.3 * (units / seconds)
      }
    })
    this.tail = result.catch(() => undefined)
    if (!signal) return result
    // An abort answers the caller at once: a task still waiting is skipped when its turn comes, one
    // already running finishes unobserved (idle() still waits for it).
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** Resolves once every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined)
  }
}
