import type { StoreConfig } from '../../src/core/types.js'

/** `index.pgvector` in profiles, as the pgvector adapter reads it. */
export interface PgIndexSettings {
  type: 'hnsw' | 'ivfflat' | 'none'
  /** hnsw */
  m: number
  efConstruction: number
  /** ivfflat; undefined = rows/1000 up to 1M rows, sqrt(rows) above. */
  lists?: number
}

export interface PgliteStore extends StoreConfig {
  kind: 'pglite'
  /** Data directory; `memory://` is allowed for tests but does not persist. */
  path: string
}

export interface PgvectorStore extends StoreConfig {
  kind: 'pgvector'
  /** postgres:// URL; may contain a password from ${env:...}: never print it unredacted. */
  url: string
}

declare module '../../src/core/types.js' {
  interface IndexSections {
    pgvector: PgIndexSettings
  }
}
