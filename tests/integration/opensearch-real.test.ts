import { describe } from 'vitest'
import { openSearchScenarios } from '../helpers/opensearch-double/scenarios.js'
import { strictnessScenarios } from '../helpers/opensearch-double/strictness.js'

const url = process.env.OPENSEARCH_URL

describe.skipIf(!url)('real OpenSearch server (OPENSEARCH_URL)', () => {
  strictnessScenarios(`real server ${url}`, () => url as string)
  openSearchScenarios(`real server ${url}`, () => url as string)
})
