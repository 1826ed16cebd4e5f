/**
 * `embedform/testing`: the store adapter conformance kit. A store plugin proves itself by
 * calling conformanceSuite() from one vitest file with a harness over its own store.
 */
export { conformanceSuite, type Harness, type HarnessIndex, type SeedRow } from './conformance.js'
export { fakeVector } from './fake-vectors.js'
export { baseIndex, testSpec } from './spec.js'
