/**
 * The store adapter contract: the plugin surface. The engine (plan/, apply/) orchestrates;
 * adapters provide primitive, idempotent operations and never decide what happens next.
 * A new store is a new adapter, never a change to the engine.
 */
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
  vector: Float32Array
  version?: number
  /** The PendingRow's token, passed back unchanged. */
  token?: string
}

export interface PendingOptions {
  batchSize: number
  /**
   * backfill: every row without a vector in the generation, keyset order.
   * catchup: rows written or changed since the backfill read them.
   */
  phase: 'backfill' | 'catchup'
}

export interface VerifyReport {
  generation: number
  total: number
  populated: number
  missing: number
  wrongDimensions: number
  indexValid: boolean | null
  /** Rows sampled whose own vector found themselves among their nearest neighbours. */
  sample: { checked: number; selfFound: number }
  ok: boolean
  problems: string[]
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
}

export type Release = () => Promise<void>

export interface StoreAdapter {
  readonly kind: StoreKind
  readonly capabilities: AdapterCapabilities
  inspect(c: Collection): Promise<LiveState>
  /** Exclusive migration lock; rejects at once with E_LOCK_HELD naming the holder. */
  lock(c: Collection, holder: string): Promise<Release>
  /** Registers generation metadata and creates its storage. Idempotent. */
  createGeneration(c: Collection, g: GenerationSpec): Promise<void>
  pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]>
  /** Bulk, idempotent write of vectors into a (non-live) generation. */
  write(c: Collection, generation: number, rows: VectorRow[]): Promise<void>
  /**
   * Builds the generation's index. `settings`, when given, replace the index settings recorded
   * with the generation first (an index-only rebuild with new m / ef_construction / lists).
   */
  buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void, settings?: IndexSettings): Promise<void>
  dropIndex(c: Collection, generation: number): Promise<void>
  verify(c: Collection, generation: number): Promise<VerifyReport>
  /** Atomically makes `generation` what the application reads; the previous live one is retained. */
  cutover(c: Collection, generation: number): Promise<void>
  dropGeneration(c: Collection, generation: number): Promise<void>
  search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]>
  /**
   * Steps the first cutover takes to adopt `LiveState.adoptable`, and what rollback remains
   * possible afterwards, one line each; [] when nothing needs adopting.
   */
  describeAdoption?(c: Collection): Promise<string[]>
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
