/** The test double must refuse what OpenSearch refuses, or adapter tests prove nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'

let d: OpenSearchDouble
beforeAll(async () => {
  d = await startOpenSearchDouble()
})
afterAll(async () => {
  await d.close()
})

async function call(method: string, path: string, body?: unknown, ndjson = false) {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    ...(body === undefined ? {} : { body: ndjson ? (body as unknown[]).map((l) => JSON.stringify(l)).join('\n') + '\n' : JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> }
}

const knnIndex = (dimension: number) => ({
  settings: { index: { knn: true, refresh_interval: '-1' } },
  mappings: { properties: { id: { type: 'keyword' }, v: { type: 'knn_vector', dimension, space_type: 'l2', method: { name: 'hnsw', engine: 'faiss' } } } },
})

describe('OpenSearch HTTP double', () => {
  it('enforces knn_vector dimension 1–16,000 and index.knn', async () => {
    expect((await call('PUT', '/too_wide', knnIndex(16_001))).body.error.type).toBe('mapper_parsing_exception')
    expect((await call('PUT', '/zero', knnIndex(0))).status).toBe(400)
    const noKnn = { mappings: knnIndex(3).mappings }
    expect((await call('PUT', '/no_knn', noKnn)).body.error.reason).toContain('index.knn')
    expect((await call('PUT', '/ok_wide', knnIndex(16_000))).status).toBe(200)
  })

  it('answers _bulk per item: wrong vector length is a mapper_parsing_exception, external_gte conflicts are 409', async () => {
    await call('PUT', '/bulk_a', knnIndex(2))
    const r = await call(
      'POST',
      '/_bulk',
      [
        { index: { _index: 'bulk_a', _id: 'a', version: 10, version_type: 'external_gte' } },
        { id: 'a', v: [1, 2] },
        { index: { _index: 'bulk_a', _id: 'b' } },
        { id: 'b', v: [1, 2, 3] },
        { index: { _index: 'bulk_a', _id: 'a', version: 9, version_type: 'external_gte' } },
        { id: 'a', v: [9, 9] },
        { index: { _index: 'bulk_a', _id: 'a', version: 10, version_type: 'external_gte' } },
        { id: 'a', v: [3, 4] },
      ],
      true,
    )
    expect(r.body.errors).toBe(true)
    expect(r.body.items.map((i: any) => i.index.status)).toEqual([201, 400, 409, 200])
    expect(r.body.items[1].index.error.type).toBe('mapper_parsing_exception')
    expect(r.body.items[2].index.error.type).toBe('version_conflict_engine_exception')
  })

  it('hides documents from search until a refresh when refresh_interval is -1, while GET is real-time', async () => {
    await call('PUT', '/fresh', knnIndex(2))
    await call('PUT', '/fresh/_doc/x', { id: 'x', v: [0, 1] })
    expect((await call('POST', '/fresh/_count', {})).body.count).toBe(0)
    expect((await call('GET', '/fresh/_doc/x')).body.found).toBe(true)
    await call('POST', '/fresh/_refresh')
    expect((await call('POST', '/fresh/_count', {})).body.count).toBe(1)
  })

  it('scores knn with OpenSearch transforms and refuses a query vector of the wrong length', async () => {
    await call('PUT', '/scores', { ...knnIndex(2), settings: { index: { knn: true } } })
    await call('PUT', '/scores/_doc/near', { id: 'near', v: [1, 0] })
    await call('PUT', '/scores/_doc/far', { id: 'far', v: [4, 0] })
    const r = await call('POST', '/scores/_search', { query: { knn: { v: { vector: [1, 0], k: 2 } } } })
    expect(r.body.hits.hits.map((h: any) => [h._id, h._score])).toEqual([
      ['near', 1],
      ['far', 0.1],
    ])
    expect((await call('POST', '/scores/_search', { query: { knn: { v: { vector: [1], k: 2 } } } })).status).toBe(400)
  })

  it('refuses an alias named like an index unless remove_index of that index is in the same request', async () => {
    await call('PUT', '/app', {})
    await call('PUT', '/app__g2', {})
    const bad = await call('POST', '/_aliases', { actions: [{ add: { index: 'app__g2', alias: 'app' } }] })
    expect(bad.body.error.type).toBe('invalid_alias_name_exception')
    const ok = await call('POST', '/_aliases', { actions: [{ add: { index: 'app__g2', alias: 'app', is_write_index: true } }, { remove_index: { index: 'app' } }] })
    expect(ok.status).toBe(200)
    expect((await call('GET', '/_alias/app')).body).toEqual({ app__g2: { aliases: { app: { is_write_index: true } } } })
  })

  it('creates a document with op_type=create once, then answers 409', async () => {
    await call('PUT', '/locks', {})
    expect((await call('PUT', '/locks/_create/l', { holder: 'a' })).status).toBe(201)
    const again = await call('PUT', '/locks/_create/l', { holder: 'b' })
    expect(again.status).toBe(409)
    expect(again.body.error.type).toBe('version_conflict_engine_exception')
  })

  it('refuses to clone an index that is not write-blocked', async () => {
    await call('PUT', '/src', {})
    expect((await call('POST', '/src/_clone/dst')).body.error.type).toBe('illegal_state_exception')
    await call('PUT', '/src/_settings', { index: { blocks: { write: true } } })
    expect((await call('POST', '/src/_clone/dst')).status).toBe(200)
    expect((await call('PUT', '/src/_doc/1', { a: 1 })).status).toBe(403)
  })
})
