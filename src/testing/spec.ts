import type { IndexSettings, ZeroVectorPolicy } from '../core/types.js'
import type { GenerationSpec } from '../store/adapter.js'

/** Index settings with no store section: the harness adds its store's own. */
export const baseIndex: IndexSettings = { metric: 'cosine', storage: 'vector' } as IndexSettings

/** A generation spec with a minimal profile snapshot, for adapter tests without an encoder. */
export function testSpec(id: number, dimensions: number, index: IndexSettings = baseIndex, zeroVectors: ZeroVectorPolicy = 'keep'): GenerationSpec {
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
      zeroVectors,
      maxTokens: 64,
      prefixes: { query: '', document: '' },
      device: 'cpu',
      batchSize: 8,
      index,
    },
  }
}
