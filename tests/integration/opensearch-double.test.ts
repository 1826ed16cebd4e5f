/**
 * The test double must refuse what OpenSearch refuses, or adapter tests prove nothing: the
 * shared strictness scenarios (also run against a real cluster by opensearch-real.test.ts), and
 * the k-NN rules of other versions, which only doubles of those versions can show side by side.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { Version } from '../helpers/opensearch-double/knn-mapping.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { expectKnnRulesOfItsVersion, strictnessScenarios } from '../helpers/opensearch-double/strictness.js'

let d: OpenSearchDouble
beforeAll(async () => {
  d = await startOpenSearchDouble()
})
afterAll(async () => {
  await d.close()
})

strictnessScenarios('HTTP double', () => d.url)

describe('OpenSearch HTTP double: k-NN rules by version', () => {
  const versions: Version[] = [
    [2, 11, 0],
    [2, 17, 0],
    [2, 19, 0],
    [3, 5, 0],
    [3, 6, 0],
    [3, 8, 0],
  ]
  for (const v of versions) {
    it(`applies the rules of ${v.join('.')}`, async () => {
      const other = await startOpenSearchDouble({ version: v })
      let n = 0
      try {
        await expectKnnRulesOfItsVersion(other.url, () => `knn_${++n}`)
      } finally {
        await other.close()
      }
    })
  }
})
