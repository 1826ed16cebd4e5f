/**
 * What apply, rollback, gc and status hand back, and the quality-gate hook the search/eval
 * engineer implements (src/eval/gate.ts) and the CLI passes in.
 */
import type { Collection, QualityGate } from '../core/types.js'
import type { ChangeKind } from '../plan/types.js'
import type { EngineContext } from '../plan/types.js'
import type { FailedItem, Freshness, GenerationState, GenerationStatus, Journal, LockInfo, StoreAdapter } from '../store/adapter.js'
import type { ThrottleOptions } from './throttle.js'

export interface GateResult {
  passed: boolean
  metric: string
  live: number
  candidate: number
  drop: number
  maxDrop: number
  /** Human-readable comparison, printed when the gate fails. */
  report: string
}

export type GateRunner = (args: {
  ctx: EngineContext
  collection: Collection
  adapter: StoreAdapter
  liveGeneration: GenerationState
  candidate: GenerationState
  gate: QualityGate
}) => Promise<GateResult>

export interface ApplyOptions {
  skipGate?: boolean
  signal?: AbortSignal
  /** Rows per pending page / encode batch / write. Default 1000. */
  batchSize?: number
  gate?: GateRunner
  /** First backoff delay between write retries (doubles each retry). Default 500 ms. */
  retryBaseMs?: number
  /** Longest the cutover may hold the application's writes to embed the last rows. Default 1000 ms. */
  maxHoldMs?: number
  /**
   * Share the backfill with other worker processes (`embedform worker`, on any machine) through
   * key-range leases in the store; this process is one of the workers.
   */
  workers?: { holder: string; ttlMs: number; rangeRows: number }
  /** Stop before the cutover (after verify and the gate), caught up; `embedform cutover` completes it. */
  hold?: boolean
  /** Rate, replica-lag and load ceilings for encode passes; pause/resume work without any. */
  throttle?: ThrottleOptions
}

export interface CollectionApplyResult {
  collection: string
  change: ChangeKind
  /** Generation live after apply (unchanged for runtime-only / none). */
  generation: number
  /** Step ids run by this invocation, in order. */
  ran: string[]
  /** Step ids skipped because the journal had them done (resume). */
  resumed: string[]
  rowsWritten: number
  catchUpPasses: number
  gate?: GateResult
  /** Stopped before the cutover by --hold. */
  held?: boolean
}

export interface ApplyResult {
  planId: string
  collections: CollectionApplyResult[]
  ms: number
}

export interface RollbackResult {
  collection: string
  from: number | null
  to: number | null
  /** Set when rollback abandoned an apply that had not cut over yet. */
  abandoned?: { planId: string; generation: number }
  /** Rows the target generation had no vector for (written while it was not live). */
  missing: number
  /** Rows whose vector in the target was made from text that changed while it was not live. */
  stale: number
  /** Rows embedded with the target's profile by this rollback. */
  reembedded: number
  /** Rows left stale or missing (only with acceptStale). */
  leftStale: number
  /** Milliseconds the application's writes were held during the switch. */
  heldMs?: number
  /** Milliseconds spent rebuilding the target's index first (it had been dropped by `gc --indexes`). */
  indexRebuildMs?: number
  warnings: string[]
}

export interface GcDrop {
  /** Set when only this index was dropped (`gc --indexes`): the generation and its vectors stay. */
  index?: string
  collection: string
  generation: number
  physical: string
  populated: number
}

export interface GcResult {
  dryRun: boolean
  keep: number
  dropped: GcDrop[]
  kept: { collection: string; generation: number }[]
}

export interface GenerationStatusEntry {
  id: number
  status: GenerationStatus
  physical: string
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  total: number
  populated: number
  /** Rows with no vector that are not skipped. */
  missing: number
  /** Rows stored with no vector by the profile's zero_vectors: skip (done, not missing); 0 where the store does not tell. */
  skipped: number
  /** Per-row freshness read from the store's record: fresh / stale / missing / skipped / unverified / queued. */
  freshness: Freshness
  index: { name: string; method: string; valid: boolean } | null
  createdAt: string
}

export interface CollectionStatus {
  collection: string
  store: string
  exists: boolean
  rows: number
  rowsExact: boolean
  live: { generation: number; profile: string | null; fingerprint: string | null } | null
  desired: { profile: string; fingerprint: string }
  /** Live state already is what the configuration asks for (runtime settings aside). */
  matchesConfig: boolean
  change: ChangeKind
  generations: GenerationStatusEntry[]
  lock: LockInfo | null
  journal: Journal | null
  /** Rows the encoder rejected during sync, from the store's failed-items record (retried with backoff). */
  failedItems: FailedItem[]
}

export interface StatusReport {
  collections: CollectionStatus[]
}
