import type { IndexSettings } from '../../src/core/types.js'
import type { GenerationSpec } from '../../src/store/adapter.js'
import { testSpec as kitSpec } from '../../src/testing/spec.js'

export const hnswCosine: IndexSettings = {
  metric: 'cosine',
  storage: 'vector',
  pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
  opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
}

export function testSpec(id: number, dimensions: number, index: IndexSettings = hnswCosine): GenerationSpec {
  return kitSpec(id, dimensions, index)
}
