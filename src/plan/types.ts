/**
 * A plan: the ordered steps that take live state to desired state, with estimates. Saved plans
 * (`plan -o plan.json`) are this object as JSON, validated by schemas/plan.schema.json; `apply
 * plan.json` executes exactly these steps and refuses when a collection's liveVersion changed.
 */
import type { ProgressListener } from '../core/events.js'
import type { Config, Profile } from '../core/types.js'
import type { EncoderOptions, OpenEncoder } from '../encoder/types.js'
import type { StoreAdapter } from '../store/adapter.js'

export const PLAN_FORMAT_VERSION = 1

/** DESIGN.md's table, one value per row. */
export type ChangeKind = 'none' | 'runtime-only' | 'index-rebuild' | 'cutover-retained' | 'new-generation'

export type StepKind =
  | 'create-generation'
  | 'backfill'
  | 'catch-up'
  | 'build-index'
  | 'drop-index'
  | 'verify'
  | 'quality-gate'
  | 'cutover'
  | 'retain-previous'
  /** OpenSearch: turn a concrete index into an alias of the same name (adoption). */
  | 'adopt'

export interface StepEstimate {
  /** Rows to encode or touch. */
  rows?: number
  seconds?: number
  /** Storage added (positive) or freed (negative), bytes. */
  bytes?: number
  /** Where the numbers come from: `measured 850 texts/s`, `hnsw ~2,000 rows/s on one core`. */
  basis?: string
}

export interface PlanStep {
  /** Unique within the plan, stable across runs of the same plan: `docs/g3/backfill`. The journal records these. */
  id: string
  kind: StepKind
  collection: string
  generation: number
  /** One line a human reads: "backfill embedding__g3 with profile speed (384-d)". */
  title: string
  /** Store objects the step changes: `column public.docs.embedding__g3`, `index docs__g3`. */
  touches: string[]
  /** Whether the step can be undone without re-embedding. */
  reversible: boolean
  /** Whether anything the application reads changes. Only cutover (and adopt) do. */
  affectsReaders: boolean
  estimate: StepEstimate
}

export interface GenerationRef {
  generation: number
  profile: string | null
  fingerprint: string | null
  dimensions: number
  model: string | null
}

export interface RuntimeChange {
  key: 'device' | 'batchSize' | 'threads'
  from: unknown
  to: unknown
}

export interface CollectionPlan {
  collection: string
  store: string
  change: ChangeKind
  /** Live generation now (null: collection has no vectors yet). */
  from: GenerationRef | null
  /** Generation that will be live after apply. */
  to: GenerationRef
  /** Device / batch size / threads differences: never a store change. */
  runtime: RuntimeChange[]
  steps: PlanStep[]
  /** LiveState.version when the plan was made. */
  liveVersion: string
  /** Resolved profile for `to`, so apply of a saved plan encodes exactly as planned. */
  profile: Profile
  warnings: string[]
  /** Encoder speed behind the time estimates, when known. */
  throughput?: { textsPerSecond: number; source: 'measured' | 'declared'; basis?: string }
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION
  id: string
  createdAt: string
  configFile: string
  collections: CollectionPlan[]
  summary: {
    collections: number
    changes: number
    rowsToEncode: number
    seconds: number
    bytes: number
    /** False when some encode step has no throughput to estimate its time from. */
    timeKnown?: boolean
  }
}

/** What the engine needs from the outside world; commands build it, tests fake parts of it. */
export interface EngineContext {
  config: Config
  /** Opens (and caches) the adapter of a store named in config. */
  adapterFor(storeName: string): Promise<StoreAdapter>
  openEncoder: OpenEncoder
  encoderOptions?: EncoderOptions
  /** Who takes the migration lock: `user@host pid 123`. */
  holder: string
  onEvent?: ProgressListener
  close(): Promise<void>
}
