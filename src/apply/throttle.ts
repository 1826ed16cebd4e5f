/**
 * Throttling of apply's encode passes, checked between batches (gh-ost style): a rate ceiling in
 * rows per second, replica lag and machine load ceilings, and pause / resume / a new rate set
 * from outside through the journal in the store (`embedform pause`, `embedform resume`), so
 * whoever can reach the store can slow down an apply running elsewhere.
 */
import { loadavg } from 'node:os'
import { inputError } from '../core/errors.js'
import type { Collection } from '../core/types.js'
import type { Journal, StoreAdapter, ThrottleControl } from '../store/adapter.js'

export interface ThrottleLimits {
  /** Rows per second written, at most. */
  maxRate?: number
  /** Wait while the store's replicas replay more than this far behind (ms). */
  maxReplicaLagMs?: number
  /** Wait while the 1-minute load average of this machine is above this. */
  maxLoad?: number
}

export interface ThrottleProbes {
  /** Replica replay lag in ms; null when the store has no replicas or cannot tell. */
  replicaLagMs?: () => Promise<number | null>
  load?: () => number
  /** The operator's control record, read from the store. */
  control?: () => Promise<ThrottleControl | undefined>
}

export interface ThrottleOptions {
  limits?: ThrottleLimits
  /** Replace the real probes (tests simulate lag and load). */
  probes?: ThrottleProbes
  /** How often a waiting or running apply re-reads the control record and probes (ms). Default 1000. */
  pollMs?: number
}

export type ThrottleReason = { kind: 'paused'; by: string } | { kind: 'replica-lag'; ms: number; max: number } | { kind: 'load'; load: number; max: number } | { kind: 'rate'; rate: number }

export function describeReason(r: ThrottleReason): string {
  switch (r.kind) {
    case 'paused':
      return `paused by ${r.by} (\`embedform resume\` continues)`
    case 'replica-lag':
      return `replica lag ${(r.ms / 1000).toFixed(1)}s above --max-replica-lag ${(r.max / 1000).toFixed(1)}s`
    case 'load':
      return `load average ${r.load.toFixed(2)} above --max-load ${r.max}`
    case 'rate':
      return `rate limited to ${r.rate} rows/s`
  }
}

const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
  })

/** The gate an encode pass passes before each write. */
export class Throttle {
  private windowStart = performance.now()
  private rowsInWindow = 0
  private rate: number | undefined
  private control: ThrottleControl | undefined
  private controlReadAt = Number.NEGATIVE_INFINITY
  private reported: string | undefined
  /** Milliseconds spent waiting, by reason kind. */
  readonly waited: Record<ThrottleReason['kind'], number> = { paused: 0, 'replica-lag': 0, load: 0, rate: 0 }

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly probes: ThrottleProbes,
    private readonly onChange: (reason: ThrottleReason | null) => void,
    private readonly pollMs = 1000,
  ) {
    this.rate = limits.maxRate
  }

  private async readControl(): Promise<ThrottleControl | undefined> {
    if (!this.probes.control || performance.now() - this.controlReadAt < this.pollMs) return this.control
    this.control = await this.probes.control()
    this.controlReadAt = performance.now()
    const rate = this.control?.maxRate ?? this.limits.maxRate
    if (rate !== this.rate) {
      // A new rate starts a new window, so rows written under the old one do not count against it.
      this.rate = rate
      this.windowStart = performance.now()
      this.rowsInWindow = 0
    }
    return this.control
  }

  private async blocker(): Promise<ThrottleReason | null> {
    const control = await this.readControl()
    if (control?.paused) return { kind: 'paused', by: control.by }
    const { maxReplicaLagMs, maxLoad } = this.limits
    if (maxReplicaLagMs !== undefined && this.probes.replicaLagMs) {
      const lag = await this.probes.replicaLagMs()
      if (lag !== null && lag > maxReplicaLagMs) return { kind: 'replica-lag', ms: lag, max: maxReplicaLagMs }
    }
    if (maxLoad !== undefined && this.probes.load) {
      const load = this.probes.load()
      if (load > maxLoad) return { kind: 'load', load, max: maxLoad }
    }
    return null
  }

  private report(reason: ThrottleReason | null): void {
    const text = reason ? describeReason(reason) : undefined
    if (text === this.reported) return
    this.reported = text
    this.onChange(reason)
  }

  /** Waits until `rows` more rows may be written. */
  async beforeBatch(rows: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return
      const blocked = await this.blocker()
      if (!blocked) break
      this.report(blocked)
      const started = performance.now()
      await delay(this.pollMs, signal)
      this.waited[blocked.kind] += performance.now() - started
      // A pause does not count as time the rate allowed: the window restarts after it.
      this.windowStart = performance.now()
      this.rowsInWindow = 0
    }
    if (this.rate !== undefined && this.rate > 0) {
      // Time the apply spent elsewhere (index build, verify, a previous pass) is no credit for a
      // burst: more than a second of unused allowance starts a new window.
      if (performance.now() - this.windowStart - (this.rowsInWindow / this.rate) * 1000 > 1000) {
        this.windowStart = performance.now()
        this.rowsInWindow = 0
      }
      const due = ((this.rowsInWindow + rows) / this.rate) * 1000
      const wait = due - (performance.now() - this.windowStart)
      if (wait > 0) {
        this.report({ kind: 'rate', rate: this.rate })
        await delay(wait, signal)
        this.waited.rate += wait
      } else {
        this.report(null)
      }
    } else {
      this.report(null)
    }
    this.rowsInWindow += rows
  }
}

/** The throttle of one collection's apply: control from its journal, lag from its store, load of this machine. */
export function collectionThrottle(adapter: StoreAdapter, c: Collection, opts: ThrottleOptions, onChange: (reason: ThrottleReason | null) => void): Throttle {
  const probes: ThrottleProbes = {
    control: async () => (await adapter.readJournal(c))?.control,
    ...(adapter.replicaLagMs ? { replicaLagMs: () => adapter.replicaLagMs!(c) } : {}),
    load: () => loadavg()[0] ?? 0,
    ...opts.probes,
  }
  if (opts.limits?.maxReplicaLagMs !== undefined && !probes.replicaLagMs) {
    throw inputError('E_THROTTLE_LAG_UNSUPPORTED', `store "${c.store}" (${adapter.kind}) cannot report replica lag`, {
      hint: '--max-replica-lag needs a store that reports it (PostgreSQL: pg_stat_replication); drop the flag for this store',
    })
  }
  return new Throttle(opts.limits ?? {}, probes, onChange, opts.pollMs)
}

/**
 * Sets the control record of the apply in flight on `c` (pause, resume, a new rate). The running
 * apply reads it between batches, within a poll interval.
 */
export async function setControl(adapter: StoreAdapter, c: Collection, patch: Partial<Omit<ThrottleControl, 'at' | 'by'>>, by: string): Promise<Journal> {
  const journal = await adapter.readJournal(c)
  if (!journal) {
    throw inputError('E_NO_APPLY_IN_FLIGHT', `collection "${c.name}" has no apply in flight to pause or resume`, {
      location: { object: c.target },
      hint: '`embedform status` shows what is in flight',
    })
  }
  const previous = journal.control ?? { paused: false, at: '', by }
  const control: ThrottleControl = { ...previous, ...patch, at: new Date().toISOString(), by }
  const next: Journal = { ...journal, control }
  await adapter.writeJournal(c, next)
  return next
}
