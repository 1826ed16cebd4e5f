import type { ThrottleOptions } from '../apply/throttle.js'
import type { FailedItem, Freshness, GenerationStatus } from '../store/adapter.js'

/** A row the encoder could not embed: kept out of the way of the rest and retried with backoff. */
export type FailedRow = FailedItem

export interface GenerationSync {
  generation: number
  status: GenerationStatus
  profile: string | null
  /** Freshness when the sync of this generation started. */
  before: Freshness
  /** Rows encoded and handed to the store (the token guard skips any whose text changed meanwhile; they stay queued). */
  embedded: number
  passes: number
  /** Freshness when it ended: writes that arrived meanwhile may be queued again. */
  after: Freshness
  /** Rows still failing when the sync ended (they stay queued for the next sync). */
  failed: FailedRow[]
}

export interface SyncResult {
  collection: string
  generations: GenerationSync[]
  /** Generations `--all-generations` could not sync, with why (a retained generation of an unknown model). */
  skipped: { generation: number; reason: string }[]
  ms: number
}

export interface SyncOptions {
  /** Retained generations too, so a rollback to them has nothing to re-embed. */
  allGenerations?: boolean
  batchSize?: number
  /** Encode attempts of a failing row within one sync run (a watch retries for as long as it runs). */
  rowAttempts?: number
  /** First retry delay of a failing row; doubled each attempt, capped by maxRetryMs. */
  retryBaseMs?: number
  maxRetryMs?: number
  signal?: AbortSignal
  /** Rate, replica-lag and load ceilings for the writes (`--max-rate` and friends). */
  throttle?: ThrottleOptions
}

export interface WatchOptions extends SyncOptions {
  /** How often the whole live generation is swept for anything a notification missed. */
  sweepMs?: number
  /** How often a store that cannot push changes (OpenSearch) is polled. */
  pollMs?: number
  /** Most delay between reconnect attempts after the store went away. */
  maxBackoffMs?: number
  /** Who this watcher is to the others sharing the queue (`user@host pid 123 sync`). */
  holder?: string
  /** A queue slice another watcher held is free this long after its last renewal (it died). */
  leaseMs?: number
}

/** One pass of a watching sync: what it embedded and how long the oldest change waited. */
export interface WatchPass {
  type: 'sync-pass'
  generation: number
  reason: 'start' | 'notify' | 'poll' | 'sweep'
  embedded: number
  failed: number
  ms: number
}
