import { conformanceSuite } from 'embedform/testing'
import { lanceHarness } from './harness.js'

conformanceSuite('lancedb', lanceHarness)
