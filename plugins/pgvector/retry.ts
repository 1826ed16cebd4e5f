import { sqlState } from './driver.js'

const LOCK_NOT_AVAILABLE = '55P03'
/** A deadlock victim rolled back entirely, so running it again is safe. */
const DEADLOCK_DETECTED = '40P01'
const RETRYABLE = new Set([LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED])

/**
 * DDL runs with a short lock_timeout so a waiting ACCESS EXCLUSIVE lock never queues the
 * application's queries behind it for long; on timeout, back off and try again.
 */
export async function retryOnLockTimeout<T>(fn: () => Promise<T>, attempts = 8, firstDelayMs = 100, onWait?: (attempt: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!RETRYABLE.has(sqlState(err) ?? '') || attempt >= attempts) throw err
      await onWait?.(attempt)
      const delay = firstDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random())
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}
