/** A flag that a notification sets and a waiting loop consumes: many sets while busy are one wake-up. */
export class Wakeup {
  private set = false
  private waiter: (() => void) | undefined

  signal(): void {
    this.set = true
    this.waiter?.()
  }

  /** Resolves true when signalled (now or before), false after `ms` or on abort. Clears the flag. */
  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    if (this.set || abort?.aborted) {
      const was = this.set
      this.set = false
      return Promise.resolve(was)
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        abort?.removeEventListener('abort', done)
        this.waiter = undefined
        const was = this.set
        this.set = false
        resolve(was)
      }
      const timer = setTimeout(done, Math.max(0, ms))
      abort?.addEventListener('abort', done, { once: true })
      this.waiter = done
    })
  }
}
