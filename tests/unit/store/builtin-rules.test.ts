import { describe, expect, it } from 'vitest'
import { osIndexRules } from '../../../plugins/opensearch/rules.js'
import { indexBuildSeconds, pgIndexRules } from '../../../plugins/pgvector/rules.js'
import { hnswCosine } from '../../conformance/generation-spec.js'

describe('pgvector index rules', () => {
  it('estimates hnsw builds at 2k rows/s per core at ef_construction=64, slower for larger ef', () => {
    expect(indexBuildSeconds(1_000_000, { type: 'hnsw', m: 16, efConstruction: 64 })).toBe(500)
    expect(indexBuildSeconds(1_000_000, { type: 'hnsw', m: 16, efConstruction: 128 })).toBe(1000)
    expect(indexBuildSeconds(1_000_000, { type: 'none', m: 16, efConstruction: 64 })).toBeUndefined()
  })

  it('plans no index step for type none, and labels the others', () => {
    expect(pgIndexRules.plan({ ...hnswCosine, pgvector: { type: 'none', m: 16, efConstruction: 64 } }, 1000)).toMatchObject({ build: false })
    expect(pgIndexRules.plan(hnswCosine, 1000)).toMatchObject({ build: true, label: 'hnsw(m=16, ef_construction=64)', seconds: 0.5 })
    expect(pgIndexRules.plan({ ...hnswCosine, pgvector: { type: 'ivfflat', m: 16, efConstruction: 64 } }, 1000).label).toBe('ivfflat(lists=auto)')
  })

  it('stores more than 2,000 dimensions as halfvec by default', () => {
    expect(pgIndexRules.defaultStorage!(2000)).toBe('vector')
    expect(pgIndexRules.defaultStorage!(3072)).toBe('halfvec')
  })
})

describe('OpenSearch index rules', () => {
  it('always plans the build-index step, whatever the pgvector section says', () => {
    const plan = osIndexRules.plan({ ...hnswCosine, pgvector: { type: 'none', m: 16, efConstruction: 64 } }, 1000)
    expect(plan).toMatchObject({ build: true, label: 'hnsw/faiss(m=16, ef_construction=64)' })
    expect(plan.basis).toMatch(/refresh_interval and replicas/)
  })
})
