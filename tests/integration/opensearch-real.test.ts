import { describe } from 'vitest'
import { openSearchScenarios } from '../helpers/opensearch-double/scenarios.js'

const url = process.env.OPENSEARCH_URL

describe.skipIf(!url)('real OpenSearch server (OPENSEARCH_URL)', () => {
  openSearchScenarios(`real server ${url}`, () => url as string)
})
