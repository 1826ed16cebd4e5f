import type { StoreConfig } from '../../src/core/types.js'

/** `index.opensearch` in profiles, as the OpenSearch adapter reads it. */
export interface OpenSearchIndexSettings {
  engine: 'faiss' | 'lucene'
  /** Undefined = derived from metric/normalize (innerproduct for normalized vectors). */
  spaceType?: 'cosinesimil' | 'innerproduct' | 'l2'
  mode?: 'in_memory' | 'on_disk'
  compressionLevel?: '1x' | '2x' | '4x' | '8x' | '16x' | '32x'
  m: number
  efConstruction: number
}

export interface OpenSearchStore extends StoreConfig {
  kind: 'opensearch'
  node: string
  username?: string
  password?: string
  /** Skip TLS verification (self-signed dev clusters). */
  insecure?: boolean
}

declare module '../../src/core/types.js' {
  interface IndexSections {
    opensearch: OpenSearchIndexSettings
  }
}
