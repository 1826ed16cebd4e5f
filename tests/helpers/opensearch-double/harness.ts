import type { Harness, SeedRow } from '../../../src/testing/index.js'
import { OpenSearchAdapter, OsHttp, STATE_INDEX, type OpenSearchAdapterOptions } from '../../../plugins/opensearch/index.js'
import type { Collection } from '../../../src/core/types.js'
import { hnswCosine } from '../../conformance/generation-spec.js'

let counter = 0

/** Strictly increasing updated-at values, so an edit is always newer than the copy it replaces. */
let lastStamp = 0
export function stamp(): number {
  lastStamp = Math.max(Date.now(), lastStamp + 1)
  return lastStamp
}

export function testCollection(target: string): Collection {
  return {
    name: target,
    store: 'test',
    profile: 'conformance',
    target,
    key: 'id',
    text: { columns: ['body'], separator: '\n' },
    vector: 'embedding',
    updatedAt: 'updated_at',
  }
}

export const baseMapping = { id: { type: 'long' }, body: { type: 'text' }, updated_at: { type: 'date', format: 'epoch_millis' } }

/**
 * A fresh concrete index per test, named like the alias the application would read: the
 * usual starting point. Writes go through the target name, so they reach the alias's write
 * index once embedform has turned it into an alias.
 */
export async function openSearchHarness(node: string, opts: Partial<OpenSearchAdapterOptions> = { bulk: { attempts: 5, backoffMs: 5 } }): Promise<Harness & { adapter: OpenSearchAdapter; http: OsHttp; physical(generation: number): string }> {
  const target = `docs_${process.pid}_${Date.now() % 100_000}_${++counter}`
  const http = OsHttp.fromStore({ name: 'test', kind: 'opensearch', node })
  const adapter = new OpenSearchAdapter(OsHttp.fromStore({ name: 'test', kind: 'opensearch', node }), opts)
  const collection = testCollection(target)
  let created = false
  const ensure = async (vectorDims?: number) => {
    if (created) return
    created = true
    const properties = { ...baseMapping, ...(vectorDims ? { embedding: { type: 'knn_vector', dimension: vectorDims, space_type: 'innerproduct', method: { name: 'hnsw', engine: 'faiss' } } } : {}) }
    await http.request({ method: 'PUT', path: `/${target}`, body: { settings: { index: { number_of_shards: 1, number_of_replicas: 0, ...(vectorDims ? { knn: true } : {}) } }, mappings: { properties } } })
  }
  const put = async (rows: (SeedRow & { vector?: Float32Array })[]) => {
    if (rows.length === 0) return
    const lines = rows.flatMap((r) => [{ index: { _index: target, _id: String(r.key) } }, { id: r.key, body: r.text, updated_at: stamp(), ...(r.vector ? { embedding: Array.from(r.vector) } : {}) }])
    const res = await http.request({ method: 'POST', path: '/_bulk', lines, query: { refresh: 'true' } })
    if (res.body.errors) throw new Error(`seeding failed: ${JSON.stringify(res.body.items)}`)
  }
  return {
    http,
    adapter,
    collection,
    physical: (generation: number) => `${target}__g${generation}`,
    index: { settings: hnswCosine },
    seed: async (rows) => {
      await ensure()
      await put(rows)
    },
    insert: async (row) => {
      await ensure()
      await put([row])
    },
    // Applications edit with a partial update: the rest of the document, its vector included, stays.
    updateText: async (key, text) => {
      await http.request({ method: 'POST', path: `/${target}/_update/${key}`, body: { doc: { body: text, updated_at: stamp() } }, query: { refresh: 'true' } })
    },
    remove: async (key) => {
      await http.request({ method: 'DELETE', path: `/${target}/_doc/${key}`, query: { refresh: 'true' } })
    },
    seedAdopted: async (rows, dimensions) => {
      await ensure(dimensions)
      await put(rows)
    },
    cleanup: async () => {
      await adapter.close()
      for (let g = 1; g <= 4; g++) await http.request({ method: 'DELETE', path: `/${target}__g${g}`, accept: [404] })
      await http.request({ method: 'DELETE', path: `/${target}`, accept: [404] })
      for (const kind of ['generations', 'journal', 'lock', 'hold']) {
        await http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${kind}:${target}`, accept: [404] })
      }
      await http.close()
    },
  }
}
