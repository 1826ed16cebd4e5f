import type { Profile } from '../../src/core/types.js'

/** A complete, valid Profile for tests; callers override only what their test is about. */
export function makeProfile(over: Partial<Profile> & { name: string }): Profile {
  return {
    model: { source: `builtin:${over.name}` },
    dimensions: 8,
    pooling: 'mean',
    normalize: true,
    zeroVectors: 'keep',
    maxTokens: 128,
    prefixes: { query: '', document: '' },
    device: 'cpu',
    batchSize: 16,
    index: {
      metric: 'cosine',
      storage: 'vector',
      pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
      opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
    },
    ...over,
  }
}
