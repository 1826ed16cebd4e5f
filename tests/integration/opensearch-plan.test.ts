/**
 * `plan` against OpenSearch (HTTP double): the adopt step for a concrete index with vectors, what a
 * new generation carries over, k-NN rules of the cluster's version refused at plan time, and a
 * plan that changes nothing in the cluster.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OpenSearchAdapter, OsHttp } from '../../plugins/opensearch/index.js'
import type { EmbedformError } from '../../src/core/errors.js'
import type { Config, Profile } from '../../src/core/types.js'
import { makePlan } from '../../src/plan/index.js'
import type { EngineContext } from '../../src/plan/types.js'
import { fakeOpenEncoder } from '../helpers/fake-encoder.js'
import { testProfile } from '../helpers/memory-adapter.js'
import { baseMapping, stamp, testCollection } from '../helpers/opensearch-double/harness.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'

let d: OpenSearchDouble
let adapter: OpenSearchAdapter

function context(profile: Profile): EngineContext {
  const collection = { ...testCollection('docs'), store: 'search', profile: profile.name }
  const config: Config = {
    version: 1,
    file: '/tmp/embedding.config.yaml',
    profilesDir: '/tmp/profiles',
    stores: { search: { name: 'search', kind: 'opensearch', node: d.url } },
    collections: { docs: collection },
    profiles: { [profile.name]: profile },
  }
  return { config, adapterFor: async () => adapter, openEncoder: fakeOpenEncoder().open, holder: 'test', close: async () => adapter.close() }
}

async function seedConcrete(vectors: boolean): Promise<void> {
  d.cluster.createIndex('docs', {
    settings: { index: { knn: vectors, number_of_replicas: 0, 'knn.algo_param.ef_search': 300 } },
    mappings: { properties: { ...baseMapping, ...(vectors ? { embedding: { type: 'knn_vector', dimension: 8, space_type: 'innerproduct', method: { name: 'hnsw', engine: 'faiss' } } } : {}) } },
  })
  for (let i = 1; i <= 5; i++) {
    d.cluster.write({ op: 'index', index: 'docs', id: String(i), source: { id: i, body: `doc ${i}`, updated_at: stamp(), ...(vectors ? { embedding: [1, 0, 0, 0, 0, 0, 0, i] } : {}) } })
  }
  d.cluster.refresh('docs')
}

describe('plan on OpenSearch', () => {
  beforeEach(async () => {
    d = await startOpenSearchDouble()
    adapter = new OpenSearchAdapter(OsHttp.fromStore({ name: 'search', kind: 'opensearch', node: d.url }))
  })
  afterEach(async () => {
    await adapter.close()
    await d.close()
  })

  it('starts with an adopt step for a concrete index with vectors, and lists what the new generation carries', async () => {
    await seedConcrete(true)
    const plan = await makePlan(context(testProfile('speed')))
    const cp = plan.collections[0]!
    expect(cp.steps.map((s) => s.kind)).toEqual(['adopt', 'create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'cutover', 'retain-previous'])
    expect(cp.steps[0]).toMatchObject({ affectsReaders: true, reversible: false, touches: ['index docs'] })
    const notes = cp.warnings.join('\n')
    expect(notes).toContain('g2 carries from docs: index.knn.algo_param.ef_search=300')
    expect(notes).toMatch(/g2 changes embedding: hnsw\/faiss\/innerproduct .*-> hnsw\/faiss\//)
  })

  it('changes nothing in the cluster: no refresh, no write, no index', async () => {
    await seedConcrete(false)
    const start = d.requests.length
    await makePlan(context(testProfile('speed')))
    const sent = d.requests.slice(start)
    expect(sent.filter((r) => r.includes('_refresh') || r.startsWith('PUT') || r.endsWith('_bulk') || r.endsWith('_block/write'))).toEqual([])
    expect([...d.cluster.indices.keys()].filter((i) => !i.startsWith('.'))).toEqual(['docs'])
  })

  it('checks against the newest k-NN rules it knows, and says so, when the cluster will not tell its version', async () => {
    await seedConcrete(false)
    d.rootForbidden = true
    const plan = await makePlan(context(testProfile('speed')))
    expect(plan.collections[0]!.warnings.join('\n')).toContain("the cluster's version could not be read (GET / refused): k-NN rules checked against OpenSearch 3.8.0")
  })

  it("refuses, at plan time, a profile the cluster's k-NN plugin would refuse, naming the profile key", async () => {
    await d.close()
    d = await startOpenSearchDouble({ version: [3, 5, 0] })
    adapter = new OpenSearchAdapter(OsHttp.fromStore({ name: 'search', kind: 'opensearch', node: d.url }))
    await seedConcrete(false)
    const p = testProfile('speed')
    const quantized = { ...p, index: { ...p.index, opensearch: { engine: 'lucene' as const, m: 16, efConstruction: 100, mode: 'on_disk' as const, compressionLevel: '32x' as const } } }
    const err = (await makePlan(context(quantized)).catch((e: unknown) => e)) as EmbedformError
    expect(err.code).toBe('E_KNN_RULES')
    expect(err.message).toContain('lucene does not support compression_level 32x on OpenSearch 3.5.0')
    expect(err.location?.path).toBe('index.opensearch.compression_level')
    expect(err.hint).toContain('3.6')
  })
})
