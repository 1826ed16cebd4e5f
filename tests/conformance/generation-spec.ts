import type { IndexSettings } from '../../src/core/types.js'
import type { GenerationSpec } from '../../src/store/adapter.js'

export const hnswCosine: IndexSettings = {
  metric: 'cosine',
  storage: 'vector',
  pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
  opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
}

/** A generation spec with a minimal profile snapshot, for adapter tests without an encoder. */
export function testSpec(id: number, dimensions: number, index: IndexSettings = hnswCosine): GenerationSpec {
  const name = `test-g${id}`
  return {
    id,
    profile: name,
    fingerprint: `fp-${name}`,
    model: `builtin:${name}`,
    dimensions,
    storage: index.storage,
    index,
    normalized: true,
    profileSnapshot: {
      name,
      model: { source: `builtin:${name}` },
      dimensions,
      pooling: 'mean',
      normalize: true,
      maxTokens: 64,
      prefixes: { query: '', document: '' },
      device: 'cpu',
      batchSize: 8,
      index,
    },
  }
}
