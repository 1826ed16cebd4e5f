import { describe } from 'vitest'
import { openSearchHarness } from '../helpers/opensearch-double/harness.js'
import { conformanceSuite } from '../../src/testing/index.js'

const url = process.env.OPENSEARCH_URL

describe.skipIf(!url)('real OpenSearch server (OPENSEARCH_URL)', () => {
  conformanceSuite(`opensearch (${url})`, () => openSearchHarness(url as string, { bulk: { attempts: 8, backoffMs: 200 } }))
})
