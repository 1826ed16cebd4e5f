/**
 * The adapter's k-NN rules (plugins/opensearch/knn-rules.ts) against the double's own copy,
 * written separately from the plugin's source: for every version and combination, plan refuses
 * exactly what index creation refuses, and the mapping embedform sends for an accepted
 * combination is one the cluster creates.
 */
import { describe, expect, it } from 'vitest'
import { knnMappingFields, knnViolations, type KnnMappingInput } from '../../plugins/opensearch/knn-rules.js'
import { Cluster } from '../helpers/opensearch-double/cluster.js'
import { OsError } from '../helpers/opensearch-double/errors.js'
import type { Version } from '../helpers/opensearch-double/knn-mapping.js'

const VERSIONS: Version[] = [
  [2, 11, 0],
  [2, 17, 0],
  [2, 19, 0],
  [3, 0, 0],
  [3, 5, 0],
  [3, 6, 0],
  [3, 8, 0],
]

function combinations(): KnnMappingInput[] {
  const out: KnnMappingInput[] = []
  for (const engine of ['faiss', 'lucene'] as const)
    for (const spaceType of ['l2', 'innerproduct', 'cosinesimil'] as const)
      for (const mode of [undefined, 'in_memory', 'on_disk'] as const)
        for (const compressionLevel of [undefined, '1x', '2x', '4x', '8x', '16x', '32x'] as const)
          for (const [m, efConstruction] of [
            [16, 100],
            [600, 100],
            [16, 4000],
          ] as const)
            out.push({ engine, spaceType, m, efConstruction, ...(mode ? { mode } : {}), ...(compressionLevel ? { compressionLevel } : {}) })
  return out
}

describe('k-NN rules: plan agrees with index creation', () => {
  for (const v of VERSIONS) {
    it(`on OpenSearch ${v.join('.')}`, () => {
      const cluster = new Cluster(v)
      let n = 0
      const disagreements: string[] = []
      for (const k of combinations()) {
        const refusedByPlan = knnViolations(k, v).length > 0
        let refusedByCluster = false
        // What the profile asks for: before 2.17 embedform sends the method form, which has no place for mode or compression.
        const asked = { ...knnMappingFields(k, v), ...(k.mode ? { mode: k.mode } : {}), ...(k.compressionLevel ? { compression_level: k.compressionLevel } : {}) }
        try {
          cluster.createIndex(`i${++n}`, { settings: { index: { knn: true } }, mappings: { properties: { v: { type: 'knn_vector', dimension: 4, ...asked } } } })
        } catch (e) {
          if (!(e instanceof OsError)) throw e
          refusedByCluster = true
        }
        if (refusedByPlan !== refusedByCluster) disagreements.push(`${JSON.stringify(k)}: plan ${refusedByPlan ? 'refuses' : 'accepts'}, cluster ${refusedByCluster ? 'refuses' : 'accepts'}`)
      }
      expect(disagreements).toEqual([])
    })
  }

  it('sends compression_level 1x from 3.8 so a mapping without one is not quantized to 32x', () => {
    const k: KnnMappingInput = { engine: 'faiss', spaceType: 'innerproduct', m: 16, efConstruction: 100 }
    expect(knnMappingFields(k, [3, 8, 0])).toMatchObject({ compression_level: '1x' })
    expect(knnMappingFields(k, [3, 7, 0])).not.toHaveProperty('compression_level')
    expect(knnMappingFields(k, [2, 11, 0])).toEqual({ method: { name: 'hnsw', engine: 'faiss', parameters: { m: 16, ef_construction: 100 }, space_type: 'innerproduct' } })
  })
})
