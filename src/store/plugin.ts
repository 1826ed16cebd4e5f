/**
 * What a store plugin provides besides its adapter: the rules of its store. Core validates the
 * config and profiles through these, plans index steps with them, and never knows a store's
 * rules itself. Built-in stores (plugins/pgvector, plugins/opensearch) register exactly like a
 * third-party package does.
 */
import type { StoreConfig, VectorStorage, IndexSettings } from '../core/types.js'
import type { AdapterContext, StoreAdapter } from './adapter.js'

/** A JSON Schema (draft 2020-12) fragment, compiled by ajv in strict mode. */
export type JsonSchema = Record<string, unknown>

/**
 * A problem a plugin finds in a store entry or a profile. `path` is the key path inside the
 * store entry (`url`) or the profile (`index.storage`); core turns it into file:line:column.
 */
export interface PluginProblem {
  code: string
  message: string
  path: string
  hint?: string
}

export interface StoreEntry {
  name: string
  /** The entry's keys after `${env:…}` interpolation, already valid against `storeSchema`. */
  values: Record<string, unknown>
  /** Directory of embedding.config.yaml, for relative paths. */
  baseDir: string
  /** Whether the value at `key` came from `${env:…}` (secrets must). */
  fromEnv(key: string): boolean
}

/** Read access to one resolved profile, in YAML key paths (`index.pgvector.m`, `dimensions`). */
export interface ProfileView {
  readonly name: string
  get<T = unknown>(path: string): T | undefined
  has(path: string): boolean
  /** True when the value is a default, not set by a file, environment variable or flag. */
  isDefault(path: string): boolean
}

export interface IndexPlan {
  /** Whether a generation with these settings gets a build-index step. */
  build: boolean
  /** Shown in the plan, e.g. `hnsw(m=16, ef_construction=64)`. */
  label: string
  seconds?: number
  /** How the estimate was made. */
  basis?: string
}

export interface IndexRules {
  /**
   * The profile section this store reads: `index.<section>`. Kinds that share one (pglite and
   * pgvector) must register the same schema and defaults.
   */
  section: string
  /** JSON Schema of the section (an object schema). */
  schema: JsonSchema
  /** Defaults of the section's keys, in YAML spelling. */
  defaults: Record<string, unknown>
  /** `index.storage` when the profile does not set it, for profiles used with this store. */
  defaultStorage?(dimensions: number): VectorStorage
  /** The defaulted YAML section → the value adapters find at `IndexSettings[section]`. */
  parse(section: Record<string, unknown>): unknown
  /** Profile-versus-store checks: dimension limits, metric/engine combinations, option pairs. */
  validate(profile: ProfileView): PluginProblem[]
  /** The index step a generation with `settings` needs in this store. */
  plan(settings: IndexSettings, rows: number): IndexPlan
}

export interface CollectionRules {
  /** The collection key that names what the application reads: `table:` or `alias:`. */
  target: 'table' | 'alias'
  /** Two spellings of one target compare equal after this (`docs` and `public.docs`). */
  canonicalTarget?(target: string): string
}

export interface StorePlugin {
  /** The `kind:` of store entries this plugin serves. */
  kind: string
  /** One line for `--help` and error hints. */
  description: string
  /** JSON Schema of the store entry's own keys (`properties`, `required`); core adds `kind`. */
  storeSchema: { properties: Record<string, JsonSchema>; required?: string[] }
  /** Checks the schema-valid entry and returns the StoreConfig the adapter receives. */
  parseStore(entry: StoreEntry): StoreConfig | PluginProblem[]
  collection: CollectionRules
  index: IndexRules
  /** YAML blocks `embedform init --store <kind>` writes (two-space indented under stores:/collections:). */
  scaffold?: { store: string; collection: string }
  create(store: StoreConfig, ctx: AdapterContext): Promise<StoreAdapter>
}

/** What a plugin module exports: `plugin`, `plugins`, or a default export of either. */
export interface StorePluginModule {
  plugin?: StorePlugin
  plugins?: StorePlugin[]
  default?: StorePlugin | StorePlugin[] | { plugin?: StorePlugin; plugins?: StorePlugin[] }
}
