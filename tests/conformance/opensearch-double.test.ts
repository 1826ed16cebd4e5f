import { afterAll, beforeAll } from 'vitest'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { openSearchHarness } from '../helpers/opensearch-double/harness.js'
import { conformanceSuite } from '../../src/testing/index.js'

let double: OpenSearchDouble

beforeAll(async () => {
  double = await startOpenSearchDouble()
})
afterAll(async () => {
  await double.close()
})

conformanceSuite('opensearch (HTTP test double)', () => openSearchHarness(double.url))
