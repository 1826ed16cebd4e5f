/**
 * The typed values the rest of the program trusts. config/ parses YAML, env and flags into
 * these once; nothing downstream re-validates them.
 *
 * YAML uses snake_case keys (`max_tokens`, `batch_size`); these types use camelCase. The
 * mapping lives in config/ only.
 */

export type Pooling = 'cls' | 'mean' | 'last-token'
export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}` | 'webgpu'
export type Metric = 'cosine' | 'l2' | 'ip'
export type VectorStorage = 'vector' | 'halfvec'
/**
 * What a generation stores for a row whose text encodes to all zeros (empty or out-of-vocabulary
 * text: no direction, so no cosine query finds it, and OpenSearch's cosinesimil refuses it).
 * keep: the zero vector is stored. skip: no vector is stored, but the text hash is recorded, so
 * the row counts as done (skipped) until its text changes.
 */
export type ZeroVectorPolicy = 'keep' | 'skip'

/**
 * Where model files come from.
 * - `hf:owner/name[@revision]` — Hugging Face layout `/{repo}/resolve/{rev}/{file}` under HF_ENDPOINT.
 * - `builtin:NAME` — a model this project builds itself (`embedform models build NAME`).
 * - anything else — a local directory path (relative paths resolve against the profile file).
 */
export interface ModelSource {
  source: string
  /** ONNX file inside the model repo/directory. Default `onnx/model.onnx`, falling back to `model.onnx`. */
  file?: string
  /** Expected sha256 of the ONNX file, if the profile pins it. Part of the fingerprint. */
  sha256?: string
  /** Run an int8 (CPU) or fp16 (GPU) copy of the ONNX file (`embedform models quantize --to`). Part of the fingerprint. */
  quantize?: 'int8' | 'fp16'
}

export interface RerankerSettings {
  enabled: boolean
  model: ModelSource
  /** Candidates retrieved from the store before reranking (RERANK_TOP_K). */
  topK: number
  /** Results returned after reranking (RETURN_TOP_K). */
  returnTopK: number
  /** Pairs per session.run (RERANK_BATCH_SIZE). */
  batchSize: number
  maxTokens: number
}

/**
 * Per-store index sections (`index.<section>` in profiles), each parsed and defaulted by the store
 * plugin that owns it. Built-in plugins add typed sections here by declaration merging
 * (plugins/pgvector/settings.ts); a third-party adapter reads its own section by name.
 */
export interface IndexSections {}

export type IndexSettings = IndexSections & {
  metric: Metric
  /** Vector element type: float32 (`vector`) or float16 (`halfvec`); part of the generation, not the index. */
  storage: VectorStorage
  [section: string]: unknown
}

export interface QualityGate {
  /** e.g. `ndcg@10`, `recall@20`, `mrr@10`, `map@10`, `overlap@10`. */
  metric: string
  queries: string
  qrels?: string
  /** Largest allowed drop of the candidate versus the live generation (absolute). */
  maxDrop: number
}

export interface Profile {
  name: string
  description?: string
  /** File the profile was loaded from (for error messages and relative model paths). */
  file?: string
  model: ModelSource
  /** Output dimensions after pooling (and Matryoshka truncation if the model is wider). */
  dimensions: number
  pooling: Pooling
  normalize: boolean
  /** Profile key `zero_vectors`; default keep. Part of the fingerprint only when skip. */
  zeroVectors: ZeroVectorPolicy
  maxTokens: number
  prefixes: { query: string; document: string }
  device: Device
  batchSize: number
  /** intra-op threads for onnxruntime; undefined = onnxruntime's default. */
  threads?: number
  /** Declared encoder throughput (texts/s) used for estimates when no measurement is possible. */
  throughput?: number
  reranker?: RerankerSettings
  index: IndexSettings
  gate?: QualityGate
}

/**
 * A store entry as its store plugin parsed it: `name`, `kind`, and the plugin's own options
 * (a URL, a data directory…). Secrets may be among them: never print a StoreConfig unredacted.
 */
export interface StoreConfig {
  name: string
  kind: StoreKind
  [option: string]: unknown
}
/** A registered store plugin's kind: `pgvector`, `pglite`, `opensearch`, or a third party's. */
export type StoreKind = string

/** How a row's text is built: one or more columns joined, or a template like `{title}\n{body}`. */
export type TextSource = { columns: string[]; separator: string } | { template: string; fields: string[] }

export interface Collection {
  name: string
  store: string
  profile: string
  /** What the application reads: a table (`table:` in the config) or an alias (`alias:`), as the store plugin names it. */
  target: string
  /** Unique, sortable key column / keyword field. */
  key: string
  text: TextSource
  /** Vector column (pgvector) / knn_vector field (OpenSearch) the application reads. */
  vector: string
  /** Field/column holding a last-modified timestamp; enables catch-up by time (OpenSearch). */
  updatedAt?: string
  /** Model that made the existing vectors when embedform adopts a table, if the team knows it. */
  adoptedProfile?: string
}

export interface Config {
  version: 1
  /** Absolute path of embedding.config.yaml. */
  file: string
  /** Directory holding profile YAML files. */
  profilesDir: string
  stores: Record<string, StoreConfig>
  collections: Record<string, Collection>
  profiles: Record<string, Profile>
  /** Default profile for collections that do not name one (EMBEDDING_PROFILE overrides it). */
  defaultProfile?: string
}
