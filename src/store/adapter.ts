/**
 * The store adapter contract: the plugin surface. The engine (plan/, apply/) orchestrates;
 * adapters provide primitive, idempotent operations and never decide what happens next.
 * A new store is a new adapter, never a change to the engine.
 *
 * Skipped rows (profile `zero_vectors: skip`): a row whose text encodes to all zeros reaches
 * write() with `vector: null`. The store keeps no vector for it (pgvector: NULL; OpenSearch: the
 * knn_vector field omitted) but records the text hash as for any write, so the row is done:
 * counted as `skipped` (never `missing`, never `populated`), never returned by pending() in
 * either phase while its text is unchanged, never sampled by verify's self-find, and no reason
 * for a cutover to wait. An edit of its text makes it pending like any edit (through the store's
 * change capture), and it is encoded again: to a vector if the new text has a direction. Only a
 * generation whose profile says skip is ever written a null; `keep` (the default) stores zeros.
 */
import type { EmbedformError } from '../core/errors.js'
import type { Collection, IndexSettings, Profile, StoreConfig, StoreKind, VectorStorage } from '../core/types.js'

/** Primary-key value as the store returns it (int8 keys arrive as strings from pg). */
export type RowKey = string | number

export interface GenerationSpec {
  /** Generation number: g1 is the adopted/original one, g2, g3… follow. */
  id: number
  profile: string
  fingerprint: string
  /** Model identity (profile.model.source) for status output and OpenSearch `_meta`. */
  model: string
  dimensions: number
  storage: VectorStorage
  index: IndexSettings
  /** Whether vectors are L2-normalized (OpenSearch picks innerproduct for them). */
  normalized: boolean
  /**
   * The resolved profile that makes this generation's vectors, stored with the generation so
   * search/eval encode queries with the generation's own settings even after profiles/ changed.
   */
  profileSnapshot: Profile
}

export type GenerationStatus = 'live' | 'building' | 'retained'

export interface IndexState {
  /** Physical index name (pg index, or OpenSearch knn method description). */
  name: string
  method: string
  valid: boolean
  /** Stable hash of the index settings, compared with the desired profile's. */
  settingsHash: string
}

export interface GenerationState {
  id: number
  status: GenerationStatus
  /** Current physical name: pg column (`embedding`, `embedding__g2`) or OpenSearch index (`docs__g2`). */
  physical: string
  /** null for a generation adopted from a table embedform has never seen. */
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  storage: VectorStorage
  /** Rows holding a vector in this generation. */
  populated: number
  index: IndexState | null
  /** Index settings the generation was created with (null for adopted generations). */
  indexSettings: IndexSettings | null
  profileSnapshot: Profile | null
  createdAt: string
}

export interface LockInfo {
  holder: string
  pid?: number
  host?: string
  since: string
}

/** What an operator asked of a running apply (`embedform pause` / `resume`); read between batches. */
export interface ThrottleControl {
  paused: boolean
  /** Rows per second, replacing --max-rate of the running apply. */
  maxRate?: number
  at: string
  by: string
}

/** Engine-owned progress record; adapters persist it verbatim inside the store. */
export interface Journal {
  planId: string
  collection: string
  generation: number
  /** Step ids already completed, in order. */
  done: string[]
  /** Step currently running, if any. */
  current?: string
  startedAt: string
  updatedAt: string
  stats: Record<string, number>
  /** Why the last run stopped (e.g. code E_GATE_FAILED at the quality-gate step); cleared when a step completes. */
  failed?: { step: string; code: string; message: string }
  /** Set by `embedform pause` / `resume` while the apply runs. */
  control?: ThrottleControl
  /** Set when `apply --hold` stopped before the cutover: the candidate is verified and gated, waiting for `embedform cutover`. */
  held?: { step: string; since: string }
}

export interface LiveState {
  collection: string
  /** The table / alias / index the collection points at exists. */
  exists: boolean
  /** Row count: an estimate from store statistics on big tables, exact on small ones. */
  rows: number
  rowsExact: boolean
  generations: GenerationState[]
  /** Id of the live generation, null when the collection has no vectors yet. */
  live: number | null
  lock: LockInfo | null
  journal: Journal | null
  /**
   * Changes whenever anything a plan depends on changes (generations, live pointer, index
   * settings). A saved plan records it; apply refuses when it differs.
   */
  version: string
  /**
   * A concrete index/table the application reads by the collection's target name that the
   * cutover will first have to turn into something switchable (OpenSearch: an index named like
   * the alias). describeAdoption() says exactly how.
   */
  adoptable?: string
}

export interface PendingRow {
  key: RowKey
  text: string
  /** Monotonic version (e.g. updated-at epoch ms) where the store supports versioned writes. */
  version?: number
  /**
   * Opaque guard the adapter hands out with the row (e.g. a hash of the text it read) and checks
   * on write, so a vector computed from text that changed meanwhile is never stored; the row
   * stays pending and the catch-up pass embeds the new text.
   */
  token?: string
}

export interface VectorRow {
  key: RowKey
  /**
   * null: the row's text encodes to no direction (all zeros) and the generation's profile says
   * `zero_vectors: skip`: store no vector, record the text hash (a skipped row, see above).
   */
  vector: Float32Array | null
  version?: number
  /** The PendingRow's token, passed back unchanged. */
  token?: string
}

export interface PendingOptions {
  batchSize: number
  /**
   * backfill: every row without a vector in the generation (skipped rows excepted), keyset order. Rows inserted or
   * edited while the pass runs may be left to catch-up (a store with a change record does), so
   * a pass ends however fast the application inserts.
   * catchup: the generation's change queue: rows inserted, edited or deleted since their vector
   * was written (cost proportional to the changes, never a scan of the whole collection). One
   * pass reads what was queued when it started, so a pass ends however fast writes arrive. A
   * deleted row is consumed from the queue by the adapter itself and never yielded.
   */
  phase: 'backfill' | 'catchup'
  /** backfill only: rows of this key range alone (a worker's lease, see leaseRange). */
  range?: KeyRange
  /** catchup only: the queue entries of these slices alone (a hash of the key modulo max). */
  slices?: QueueSlices
}

export interface QueueSlices {
  ids: number[]
  max: number
}

/**
 * One unit of a shared backfill, as the store that leased it defines it: keys k with lo < k <= hi
 * in the key column's own order (null is an open end), or, where the store splits by slices
 * instead of keys (OpenSearch: sliced point-in-time), slice `id` of `max` with lo and hi null.
 * The engine hands it back to the store unchanged.
 */
export interface KeyRange {
  id: number
  lo: string | null
  hi: string | null
  slice?: { id: number; max: number }
}

export interface LeaseOptions {
  /** Who holds the lease, as other workers and `status` see it: `user@host pid 123`. */
  holder: string
  /** The lease expires this long after its last renewal; a dead worker's range is free then. */
  ttlMs: number
}

/** A range to backfill; or nothing free right now (held by live workers: ask again within waitMs); or all done. */
export type LeaseClaim = { range: KeyRange } | { waitMs: number } | { done: true }

export interface WriteOptions {
  /**
   * Allow writing the generation the application reads (sync keeps the live generation fresh).
   * Without it, writing the live generation is refused with E_WRITE_LIVE.
   */
  live?: boolean
}

/**
 * Per-row freshness of one generation, read from the store's own record: every vector embedform
 * writes is recorded with a hash of the text it was made from, and every insert, text edit and
 * delete the application makes queues the row for every generation the collection has
 * (building, live and retained alike). fresh + stale + missing + unverified + skipped = rows.
 */
export interface Freshness {
  generation: number
  rows: number
  /** Vector made by embedform from the row's current text. */
  fresh: number
  /** Vector present but made from text that changed since, or written by someone else after a change. */
  stale: number
  /** No vector, and not a skipped row. */
  missing: number
  /**
   * Rows written with no vector (zero_vectors: skip) whose recorded hash matches their current
   * text: done, not missing. Absent where the store does not count them (a plugin written before
   * the setting existed): status shows '-' and takes them for missing.
   */
  skipped?: number
  /** Vector present that embedform has no record of (an adopted generation's vectors): neither known fresh nor known stale. */
  unverified: number
  /** Rows waiting in the change queue (what a catch-up or sync pass reads). */
  queued: number
  /** False when rows/missing come from store statistics (very large collections). */
  exact: boolean
  /**
   * When the oldest change still queued for this generation was made (ISO time), null when the
   * queue is empty; absent where the store keeps no change times. now − this is the sync lag.
   */
  oldestQueuedAt?: string | null
  /**
   * Vectors of all zeros (empty or out-of-vocabulary text: never retrievable under cosine), as
   * verify counts them; absent where the store does not count them (estimated freshness).
   */
  zeroVectors?: number
}

/**
 * A row the encoder could not embed (text its tokenizer rejects, an error on that input alone):
 * recorded with the error so `status` lists it, and retried after retryAt.
 */
export interface FailedItem {
  generation: number
  key: RowKey
  error: string
  attempts: number
  firstFailedAt: string
  lastFailedAt: string
  /** Not tried again before this time. */
  retryAt: string
}

/** What a change subscription reports (see StoreAdapter.watchChanges). */
export interface ChangeListener {
  /** Something was queued for these generations (called at the writer's commit, coalesced). */
  onChange(generations: number[]): void
  /** The subscription's connection is gone (store restart, network): subscribe again. */
  onLost(err: unknown): void
}

export interface ChangeSubscription {
  close(): Promise<void>
}

export interface CutoverOptions {
  /**
   * Encodes rows still pending in the target (queued or without a vector) while the application's
   * writes are held back, so the switch misses nothing. Without it, any pending row makes the
   * cutover return `behind` and change nothing.
   */
  embed?: (rows: PendingRow[]) => Promise<VectorRow[]>
  /** Most pending rows embedded while writes are held; more, and the hold is released with `behind`. */
  maxHeldRows: number
  /**
   * Switch even though rows stay stale or missing in the target (a rollback to a generation whose
   * model cannot be loaded here). The result reports how many.
   */
  acceptStale?: boolean
}

export type CutoverResult =
  | {
      status: 'done'
      /** Milliseconds the application's writes were held back (reads are never blocked by the hold). */
      heldMs: number
      /** Milliseconds of the exclusive swap itself (readers wait this long at most). */
      swapMs: number
      /** Rows embedded while writes were held. */
      embeddedWhileHeld: number
      /** Rows left stale or missing in the new live generation (only with acceptStale). */
      leftStale: number
    }
  | {
      status: 'behind'
      /** Rows pending when the hold was taken: catch up, then try again. */
      pending: number
      heldMs: number
    }

export interface VerifyReport {
  generation: number
  total: number
  /** Rows holding a vector (skipped rows hold none). */
  populated: number
  /** Rows with no vector that are not skipped. */
  missing: number
  /** Rows written with no vector (zero_vectors: skip) whose recorded hash matches their current text: done. */
  skipped: number
  /** Vectors whose recorded text hash differs from the row's current text. */
  stale: number
  /** Stale or missing rows not in the change queue: the freshness record itself is wrong. */
  untracked: number
  /** Vectors of all zeros (empty or out-of-vocabulary text): never retrievable under cosine. */
  zeroVectors: number
  wrongDimensions: number
  indexValid: boolean | null
  /**
   * Rows sampled whose own vector finds itself (or an identical vector) by exact search, without
   * the approximate index: deterministic, so chance cannot fail it. Skipped rows (no vector) are
   * never sampled.
   */
  sample: { checked: number; selfFound: number }
  /** Recall@10 of the generation's index against exact search on the sample; null without an index. Reported, never a failure by itself. */
  indexRecall: number | null
  ok: boolean
  problems: string[]
}

/** One row drawn at random by `sample()`. */
export interface SampledRow {
  key: RowKey
  text: string
  /** With a generation asked for: its stored vector for the row, null when it has none. */
  vector?: Float32Array | null
  /**
   * With a generation asked for: what the freshness record says of that vector (fresh: made from
   * the row's current text; stale: text changed since; unverified: no record, e.g. adopted;
   * skipped: no vector by the profile's zero_vectors: skip, recorded from the current text).
   */
  record?: 'fresh' | 'stale' | 'missing' | 'unverified' | 'skipped'
}

export interface SearchQuery {
  vector: Float32Array
  k: number
  /** Query text for hybrid (BM25 + kNN) retrieval where the store supports it. */
  text?: string
  hybrid?: boolean
}

export interface Hit {
  key: RowKey
  score: number
  text: string
}

export interface AdapterCapabilities {
  /** Index builds that do not block writes (pg CONCURRENTLY). */
  concurrentIndex: boolean
  hybridSearch: boolean
  /**
   * Whether a generation's index can be dropped and rebuilt with other settings while its vectors
   * stay (pgvector: yes; OpenSearch: no — the k-NN graph is part of the index, so new index
   * settings mean a new generation).
   */
  inPlaceIndexRebuild: boolean
  /** Largest dimensions an index supports for each storage. */
  maxIndexDimensions: Record<VectorStorage, number>
  /**
   * The batch the store writes best, used when the user sets no `--batch-size`: at most `rows`
   * rows and at most `vectorBytes` of float32 vectors (so wide vectors get fewer rows). Absent:
   * DEFAULT_BATCH_ROWS (store/batch-rows.ts).
   */
  batch?: { rows: number; vectorBytes: number }
}

/** One measured run of the real pipeline on sampled rows: what plan's estimates come from. */
export interface PipelineMeasurement {
  rows: number
  /** Reading the rows' text, as pending() does. */
  readMs: number
  encodeMs: number
  /** Writing the vectors through the adapter's own write path into a copy with the table's real indexes. */
  writeMs: number
  /** Indexes on the copy the writes went through (names as on the real table). */
  indexes: string[]
  /** Share of the writes that touched no index (heap-only), where the store can tell. */
  heapOnlyShare?: number
}

export interface PipelineProbe {
  dimensions: number
  storage: VectorStorage
  sampleRows: number
  encode: (texts: string[]) => Promise<Float32Array[]>
}

export type Release = () => Promise<void>

/** What a plan will do to a collection, so preflight checks only what that work needs. */
export interface PreflightDesired {
  dimensions: number
  storage: VectorStorage
  /** A new vector column/index/trigger is created (new generation, index rebuild, adoption). */
  createsObjects: boolean
  /** The column or alias the application reads is switched (any cutover). */
  cutsOver: boolean
  /** The generation the plan would create, when it creates one. */
  generation?: GenerationSpec
}

/**
 * A reason apply would fail (error) or surprise the user (warning), found by reading the store
 * before anything is changed. `object` names the table/column/view/role it is about.
 */
export interface PreflightProblem {
  code: string
  /** note: not a problem, something the plan should show (e.g. settings carried to the new generation). */
  severity: 'error' | 'warning' | 'note'
  message: string
  object: string
  /** The next action: the SQL or config change that removes the problem. */
  hint: string
  /** The config or profile key it is about, when it is about one (default: the collection). */
  path?: string
  /** The file that key is in. */
  file?: string
}

export interface StoreAdapter {
  readonly kind: StoreKind
  readonly capabilities: AdapterCapabilities
  inspect(c: Collection): Promise<LiveState>
  /** Exclusive migration lock; rejects at once with E_LOCK_HELD naming the holder. */
  lock(c: Collection, holder: string): Promise<Release>
  /** Registers generation metadata and creates its storage. Idempotent. */
  createGeneration(c: Collection, g: GenerationSpec): Promise<void>
  pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]>
  /**
   * Bulk, idempotent write of vectors, each recorded with the text it was made from (the row's
   * token). A row whose text changed since pending() read it is skipped and stays queued; a written
   * row leaves the change queue only if it was not changed again meanwhile. A row with a null
   * vector is recorded the same way with no vector stored (a skipped row, see the top of this file).
   */
  write(c: Collection, generation: number, rows: VectorRow[], opts?: WriteOptions): Promise<void>
  /** Per-row freshness of a generation. Read-only. */
  freshness(c: Collection, generation: number): Promise<Freshness>
  /**
   * Builds the generation's index. `settings`, when given, replace the index settings recorded
   * with the generation first (an index-only rebuild with new m / ef_construction / lists).
   */
  buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void, settings?: IndexSettings): Promise<void>
  dropIndex(c: Collection, generation: number): Promise<void>
  verify(c: Collection, generation: number): Promise<VerifyReport>
  /**
   * Atomically makes `generation` what the application reads; the previous live one is retained.
   * Holds the application's writes back, embeds what is still pending in the target through
   * `opts.embed` (at most maxHeldRows), and switches only when nothing is left stale or missing,
   * so a write committed at any moment before the switch is in the new live generation.
   */
  cutover(c: Collection, generation: number, opts: CutoverOptions): Promise<CutoverResult>
  dropGeneration(c: Collection, generation: number): Promise<void>
  search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]>
  /**
   * Steps the first cutover takes to adopt `LiveState.adoptable`, and what rollback remains
   * possible afterwards, one line each; [] when nothing needs adopting.
   */
  describeAdoption?(c: Collection): Promise<string[]>
  /**
   * Makes `LiveState.adoptable` switchable (OpenSearch: the concrete index becomes an alias over
   * a clone of itself) while the application's writes are held; the plan's `adopt` step runs it,
   * never the cutover. Nothing to adopt: does nothing.
   */
  adopt?(c: Collection): Promise<{ heldMs: number }>
  /**
   * Read-only checks that the collection can be migrated as desired (key, text fields, vector
   * column, dependent objects, privileges; for a new generation its index settings by the store's
   * own rules, e.g. OpenSearch's k-NN rules of the cluster's version), run by plan and apply
   * before any lock or DDL. Errors stop the plan; warnings and notes are shown with it.
   */
  preflight?(c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]>
  /**
   * Optional: reads a sample of rows, encodes them through `probe.encode` and writes the vectors
   * through the real write path into a throwaway copy that has the table's own indexes, then
   * discards everything (nothing in the store changes).
   */
  measurePipeline?(c: Collection, probe: PipelineProbe): Promise<PipelineMeasurement>
  /**
   * Push notification of the application's changes (PostgreSQL: LISTEN on a channel the change
   * trigger notifies at commit). Absent, or null, where the store cannot push: the engine polls.
   * Never a guarantee of completeness: a sync still sweeps the queue now and then.
   */
  watchChanges?(c: Collection, listener: ChangeListener): Promise<ChangeSubscription | null>
  /**
   * Backfill shared by several workers (any machine), coordinated in the store. planRanges splits
   * the generation's rows without a vector into key ranges of about rangeRows, once (later calls
   * keep the plan); leaseRange claims a free one (never claimed, or its lease expired: a dead
   * worker's); renewLease keeps it (false: it expired and was taken over, stop working on it);
   * completeLease marks it done. Absent where the store cannot coordinate workers.
   */
  planRanges?(c: Collection, generation: number, rangeRows: number): Promise<void>
  /** Whether ranges were planned for the generation (a worker joins only a shared backfill). */
  rangesPlanned?(c: Collection, generation: number): Promise<boolean>
  leaseRange?(c: Collection, generation: number, opts: LeaseOptions): Promise<LeaseClaim>
  renewLease?(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean>
  completeLease?(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean>
  /**
   * The failed-items record: `failed` upserted, `cleared` (embedded since, or gone) removed.
   * failedItems lists the record's entries whose row still exists. Absent: failures are only
   * reported by the run that saw them.
   */
  recordFailures?(c: Collection, failed: FailedItem[], cleared: { generation: number; key: RowKey }[]): Promise<void>
  failedItems?(c: Collection): Promise<FailedItem[]>
  /**
   * A watching sync shared by several processes: the change queue is split into `max` slices,
   * each worked by one process at a time under an expiring lease. claimSlices takes the first
   * `limit` free slices numbered `from` or more (free: unheld, or its lease expired) and marks the
   * ones others hold, so that their holder's releaseSlices returns them (changes arrived
   * meanwhile: run them once more; still held). renewSlices returns the ids still held.
   * Absent: one watcher works the whole queue.
   */
  claimSlices?(c: Collection, generation: number, slices: { from: number; limit: number; max: number }, opts: LeaseOptions): Promise<number[]>
  renewSlices?(c: Collection, generation: number, ids: number[], opts: LeaseOptions): Promise<number[]>
  releaseSlices?(c: Collection, generation: number, ids: number[], opts: LeaseOptions): Promise<number[]>
  /**
   * Up to `n` rows drawn at random with their current text and, when `generation` is given, that
   * generation's stored vector and freshness record. Read-only; used by `plan --sample` and
   * `status --attest`.
   */
  sample?(c: Collection, n: number, generation?: number): Promise<SampledRow[]>
  /** How far the store's replicas lag in replaying writes (ms), for `--max-replica-lag`; null without replicas. Read-only. */
  replicaLagMs?(c: Collection): Promise<number | null>
  readJournal(c: Collection): Promise<Journal | null>
  writeJournal(c: Collection, j: Journal | null): Promise<void>
  close(): Promise<void>
}

export interface AdapterContext {
  /** Directory of embedding.config.yaml, for resolving relative store paths. */
  baseDir: string
  log?: (message: string) => void
}

export interface StorePlugin {
  kind: string
  create(store: StoreConfig, ctx: AdapterContext): Promise<StoreAdapter>
}
