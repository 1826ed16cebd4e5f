/**
 * What OpenSearch refuses or hides, asserted over plain HTTP so that the same tests hold the
 * double and a real cluster (OPENSEARCH_URL) to the same expectations. Rules that depend on the
 * version are asserted for the version the server reports.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { atLeast, parseVersion, type ClusterVersion } from '../../../plugins/opensearch/knn-rules.js'

type Body = Record<string, any>

async function callNode(node: string, method: string, path: string, body?: unknown, ndjson = false): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${node}${path}`, {
    method,
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    ...(body === undefined ? {} : { body: ndjson ? (body as unknown[]).map((l) => JSON.stringify(l)).join('\n') + '\n' : JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body }
}

const vectorIndex = (field: Body, settings: Body = {}) => ({
  settings: { index: { knn: true, number_of_replicas: 0, ...settings } },
  mappings: { properties: { id: { type: 'keyword' }, v: { type: 'knn_vector', dimension: 2, ...field } } },
})

/**
 * The k-NN rules for the version the server reports. Only the status is asserted: the plugin's
 * exception types for these refusals differ between versions.
 */
export async function expectKnnRulesOfItsVersion(node: string, fresh: () => string): Promise<void> {
  const v = parseVersion(String((await callNode(node, 'GET', '/')).body.version.number)) as ClusterVersion
  const create = async (field: Body) => (await callNode(node, 'PUT', `/${fresh()}`, vectorIndex(field))).status
  const hnsw = (engine: string, parameters: Body = {}) => ({ name: 'hnsw', engine, parameters })
  if (atLeast(v, 2, 17)) {
    expect(await create({ space_type: 'l2', compression_level: '4x', method: hnsw('faiss') })).toBe(400)
    expect(await create({ space_type: 'l2', compression_level: '2x', method: hnsw('lucene') })).toBe(400)
    expect(await create({ space_type: 'l2', mode: 'on_disk', compression_level: '1x', method: hnsw('lucene') })).toBe(400)
    expect(await create({ space_type: 'l2', compression_level: '32x', method: hnsw('lucene') })).toBe(atLeast(v, 3, 6) ? 200 : 400)
    expect(await create({ space_type: 'l2', compression_level: '4x', method: hnsw('lucene') })).toBe(200)
    expect(await create({ space_type: 'l2', mode: 'on_disk', compression_level: '16x', method: hnsw('faiss') })).toBe(200)
    expect(await create({ space_type: 'cosinesimil', method: hnsw('faiss') })).toBe(atLeast(v, 2, 19) ? 200 : 400)
  } else {
    expect(await create({ space_type: 'l2', method: hnsw('faiss') })).toBe(400)
    expect(await create({ mode: 'on_disk', method: { ...hnsw('faiss'), space_type: 'l2' } })).toBe(400)
  }
  expect(await create({ method: { ...hnsw('lucene', { m: 513 }), space_type: 'l2' } })).toBe(400)
  expect(await create({ method: { ...hnsw('lucene', { ef_construction: 3201 }), space_type: 'l2' } })).toBe(400)
  expect(await create({ method: { ...hnsw('lucene', { m: 512, ef_construction: 3200 }), space_type: 'l2' } })).toBe(200)
  if (atLeast(v, 3, 0)) expect(await create({ method: { ...hnsw('nmslib'), space_type: 'l2' } })).toBe(400)
}

export function strictnessScenarios(name: string, node: () => string): void {
  describe(`OpenSearch strictness: ${name}`, () => {
    const prefix = `strict_${process.pid}_${Date.now() % 100_000}`
    const made: string[] = []
    let n = 0
    const fresh = () => {
      const idx = `${prefix}_${++n}`
      made.push(idx)
      return idx
    }

    const call = (method: string, path: string, body?: unknown, ndjson = false) => callNode(node(), method, path, body, ndjson)

    afterAll(async () => {
      for (const idx of made) await call('DELETE', `/${idx}`)
    })

    it('enforces knn_vector dimension 1–16,000 and index.knn', async () => {
      const mapping = (dimension: number) => ({ mappings: { properties: { v: { type: 'knn_vector', dimension, method: { name: 'hnsw', engine: 'faiss' } } } } })
      const tooWide = await call('PUT', `/${fresh()}`, { settings: { index: { knn: true } }, ...mapping(16_001) })
      expect(tooWide.status).toBe(400)
      expect(tooWide.body.error.type).toBe('mapper_parsing_exception')
      expect((await call('PUT', `/${fresh()}`, { settings: { index: { knn: true } }, ...mapping(0) })).status).toBe(400)
      expect((await call('PUT', `/${fresh()}`, mapping(3))).status).toBe(400)
      expect((await call('PUT', `/${fresh()}`, { settings: { index: { knn: true } }, ...mapping(16_000) })).status).toBe(200)
    })

    it('answers _bulk per item: a vector of the wrong length is a mapper_parsing_exception, an older external_gte version a 409', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, vectorIndex({ method: { name: 'hnsw', engine: 'faiss', space_type: 'l2' } }))
      const r = await call(
        'POST',
        '/_bulk',
        [
          { index: { _index: idx, _id: 'a', version: 10, version_type: 'external_gte' } },
          { id: 'a', v: [1, 2] },
          { index: { _index: idx, _id: 'b' } },
          { id: 'b', v: [1, 2, 3] },
          { index: { _index: idx, _id: 'a', version: 9, version_type: 'external_gte' } },
          { id: 'a', v: [9, 9] },
          { index: { _index: idx, _id: 'a', version: 10, version_type: 'external_gte' } },
          { id: 'a', v: [3, 4] },
        ],
        true,
      )
      expect(r.body.errors).toBe(true)
      expect(r.body.items.map((i: Body) => i.index.status)).toEqual([201, 400, 409, 200])
      expect(r.body.items[1].index.error.type).toBe('mapper_parsing_exception')
      expect(r.body.items[2].index.error.type).toBe('version_conflict_engine_exception')
    })

    it('refuses a negative external version', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, {})
      const r = await call('PUT', `/${idx}/_doc/1?version=-5&version_type=external_gte`, { a: 1 })
      expect(r.status).toBe(400)
    })

    it('hides writes from search, count and point-in-time until a refresh when refresh_interval is -1, while GET is real-time', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { settings: { index: { refresh_interval: '-1', number_of_replicas: 0 } }, mappings: { properties: { id: { type: 'keyword' } } } })
      await call('PUT', `/${idx}/_doc/x`, { id: 'x' })
      expect((await call('POST', `/${idx}/_count`, {})).body.count).toBe(0)
      expect((await call('POST', `/${idx}/_search`, {})).body.hits.total.value).toBe(0)
      const pit = await call('POST', `/${idx}/_search/point_in_time?keep_alive=1m`)
      const inPit = await call('POST', '/_search', { pit: { id: pit.body.pit_id }, size: 10, sort: [{ id: 'asc' }] })
      expect(inPit.body.hits.hits).toEqual([])
      await call('DELETE', '/_search/point_in_time', { pit_id: [pit.body.pit_id] })
      expect((await call('GET', `/${idx}/_doc/x`)).body.found).toBe(true)
      await call('POST', `/${idx}/_refresh`)
      expect((await call('POST', `/${idx}/_count`, {})).body.count).toBe(1)
    })

    it('makes writes searchable by itself within the refresh interval', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { settings: { index: { refresh_interval: '1s', number_of_replicas: 0 } } })
      await call('PUT', `/${idx}/_doc/x`, { id: 'x' })
      await new Promise((r) => setTimeout(r, 2200))
      expect((await call('POST', `/${idx}/_count`, {})).body.count).toBe(1)
    })

    it('scores knn with the engine transforms and refuses a query vector of the wrong length', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, vectorIndex({ space_type: 'l2', method: { name: 'hnsw', engine: 'faiss' } }))
      await call('PUT', `/${idx}/_doc/near`, { id: 'near', v: [1, 0] })
      await call('PUT', `/${idx}/_doc/far?refresh=true`, { id: 'far', v: [4, 0] })
      const r = await call('POST', `/${idx}/_search`, { query: { knn: { v: { vector: [1, 0], k: 2 } } } })
      expect(r.body.hits.hits.map((h: Body) => [h._id, h._score])).toEqual([
        ['near', 1],
        ['far', 0.1],
      ])
      expect((await call('POST', `/${idx}/_search`, { query: { knn: { v: { vector: [1], k: 2 } } } })).status).toBe(400)
    })

    it('refuses a zero vector under cosinesimil', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, vectorIndex({ space_type: 'cosinesimil', method: { name: 'hnsw', engine: 'lucene' } }))
      const r = await call('PUT', `/${idx}/_doc/z`, { id: 'z', v: [0, 0] })
      expect(r.status).toBe(400)
      expect(JSON.stringify(r.body)).toContain('zero vector is not supported')
      expect((await call('PUT', `/${idx}/_doc/ok`, { id: 'ok', v: [0, 1] })).status).toBe(201)
    })

    it('refuses an alias named like an index unless remove_index of that index is in the same request', async () => {
      const app = fresh()
      const g2 = `${app}__g2`
      made.push(g2)
      await call('PUT', `/${app}`, {})
      await call('PUT', `/${g2}`, {})
      const bad = await call('POST', '/_aliases', { actions: [{ add: { index: g2, alias: app } }] })
      expect(bad.body.error.type).toBe('invalid_alias_name_exception')
      const ok = await call('POST', '/_aliases', { actions: [{ add: { index: g2, alias: app, is_write_index: true } }, { remove_index: { index: app } }] })
      expect(ok.status).toBe(200)
      expect((await call('GET', `/_alias/${app}`)).body).toEqual({ [g2]: { aliases: { [app]: { is_write_index: true } } } })
    })

    it('refuses a second write index on an alias, and DELETE of an alias', async () => {
      const [x, y, alias] = [fresh(), fresh(), `${prefix}_alias`]
      await call('PUT', `/${x}`, {})
      await call('PUT', `/${y}`, {})
      expect((await call('POST', '/_aliases', { actions: [{ add: { index: x, alias, is_write_index: true } }] })).status).toBe(200)
      const twice = await call('POST', '/_aliases', { actions: [{ add: { index: y, alias, is_write_index: true } }] })
      expect(twice.status).toBe(400)
      expect(twice.body.error.type).toBe('illegal_state_exception')
      const swapped = await call('POST', '/_aliases', { actions: [{ remove: { index: x, alias } }, { add: { index: y, alias, is_write_index: true } }] })
      expect(swapped.status).toBe(200)
      const del = await call('DELETE', `/${alias}`)
      expect(del.status).toBe(400)
      expect(del.body.error.type).toBe('illegal_argument_exception')
      expect((await call('HEAD', `/${y}`)).status).toBe(200)
    })

    it('refuses a point-in-time search that names an index, and if_seq_no without if_primary_term', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { mappings: { properties: { id: { type: 'keyword' } } } })
      const pit = await call('POST', `/${idx}/_search/point_in_time?keep_alive=1m`)
      const r = await call('POST', `/${idx}/_search`, { pit: { id: pit.body.pit_id } })
      expect(r.status).toBe(400)
      expect(r.body.error.type).toBe('action_request_validation_exception')
      await call('DELETE', '/_search/point_in_time', { pit_id: [pit.body.pit_id] })
      const put = await call('PUT', `/${idx}/_doc/1`, { id: '1' })
      const cas = await call('PUT', `/${idx}/_doc/1?if_seq_no=${put.body._seq_no}`, { id: '1' })
      expect(cas.status).toBe(400)
      expect(cas.body.error.type).toBe('action_request_validation_exception')
      expect((await call('PUT', `/${idx}/_doc/1?if_seq_no=${put.body._seq_no}&if_primary_term=${put.body._primary_term}`, { id: '1' })).status).toBe(200)
    })

    it('sorts only on sortable fields: a text field and an unmapped one are refused, a dynamic string keeps a sortable .keyword', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { mappings: { properties: { body: { type: 'text' }, n: { type: 'long' } } } })
      await call('PUT', `/${idx}/_doc/1?refresh=true`, { body: 'hello', n: 1, label: 'b' })
      const text = await call('POST', `/${idx}/_search`, { sort: [{ body: 'asc' }] })
      expect(text.status).toBe(400)
      expect(JSON.stringify(text.body)).toContain('Text fields are not optimised')
      const unmapped = await call('POST', `/${idx}/_search`, { sort: [{ nothing_here: 'asc' }] })
      expect(unmapped.status).toBe(400)
      expect(JSON.stringify(unmapped.body)).toContain('No mapping found for [nothing_here]')
      expect((await call('POST', `/${idx}/_search`, { sort: [{ n: 'asc' }] })).status).toBe(200)
      expect((await call('POST', `/${idx}/_search`, { sort: [{ label: 'asc' }] })).status).toBe(400)
      const keyword = await call('POST', `/${idx}/_search`, { sort: [{ 'label.keyword': 'asc' }] })
      expect(keyword.status).toBe(200)
      expect(keyword.body.hits.hits[0].sort).toEqual(['b'])
    })

    it('fails a multi_match over a numeric field on a word unless it is lenient', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { mappings: { properties: { body: { type: 'text' }, year: { type: 'integer' } } } })
      await call('PUT', `/${idx}/_doc/1?refresh=true`, { body: 'zebra crossing', year: 2020 })
      const strict = await call('POST', `/${idx}/_search`, { query: { multi_match: { query: 'zebra', fields: ['body', 'year'] } } })
      expect(strict.status).toBe(400)
      const lenient = await call('POST', `/${idx}/_search`, { query: { multi_match: { query: 'zebra', fields: ['body', 'year'], lenient: true } } })
      expect(lenient.body.hits.hits.map((h: Body) => h._id)).toEqual(['1'])
    })

    it('write block: writes fail with cluster_block_exception, reads, refreshes and _aliases go on, and lifting it restores writes', async () => {
      const idx = fresh()
      const alias = `${idx}_reads`
      await call('PUT', `/${idx}`, { settings: { index: { number_of_replicas: 0 } } })
      await call('PUT', `/${idx}/_doc/1?refresh=true`, { a: 1 })
      const block = await call('PUT', `/${idx}/_block/write`)
      expect(block.body).toMatchObject({ acknowledged: true, indices: [{ name: idx, blocked: true }] })
      const refused = await call('PUT', `/${idx}/_doc/2`, { a: 2 })
      expect(refused.status).toBe(403)
      expect(refused.body.error.type).toBe('cluster_block_exception')
      expect((await call('DELETE', `/${idx}/_doc/1`)).status).toBe(403)
      expect((await call('POST', `/${idx}/_refresh`)).status).toBe(200)
      expect((await call('POST', `/${idx}/_count`, {})).body.count).toBe(1)
      expect((await call('POST', '/_aliases', { actions: [{ add: { index: idx, alias } }] })).status).toBe(200)
      await call('PUT', `/${idx}/_settings`, { index: { blocks: { write: false } } })
      expect((await call('PUT', `/${idx}/_doc/2`, { a: 2 })).status).toBe(201)
    })

    it('clones only a write-blocked index, and the clone starts write-blocked too', async () => {
      const src = fresh()
      const dst = fresh()
      await call('PUT', `/${src}`, { settings: { index: { number_of_replicas: 0 } } })
      expect((await call('POST', `/${src}/_clone/${dst}`)).body.error.type).toBe('illegal_state_exception')
      await call('PUT', `/${src}/_block/write`)
      expect((await call('POST', `/${src}/_clone/${dst}?wait_for_active_shards=1`)).status).toBe(200)
      expect((await call('PUT', `/${dst}/_doc/1`, { a: 1 })).status).toBe(403)
    })

    it('creates a document with op_type=create once, then answers 409', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, {})
      expect((await call('PUT', `/${idx}/_create/l`, { holder: 'a' })).status).toBe(201)
      const again = await call('PUT', `/${idx}/_create/l`, { holder: 'b' })
      expect(again.status).toBe(409)
      expect(again.body.error.type).toBe('version_conflict_engine_exception')
    })

    it('slices a point-in-time search by document: the slices partition the index the same way in every point-in-time', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { settings: { index: { number_of_replicas: 0, max_slices_per_pit: 4 } }, mappings: { properties: { id: { type: 'keyword' } } } })
      const ids = Array.from({ length: 40 }, (_, i) => `d${i}`)
      await call('POST', `/${idx}/_bulk?refresh=true`, ids.flatMap((id) => [{ index: { _id: id } }, { id }]), true)
      const slicesOf = async (max: number) => {
        const pit = await call('POST', `/${idx}/_search/point_in_time?keep_alive=1m`)
        const out: string[][] = []
        for (let id = 0; id < max; id++) {
          const r = await call('POST', '/_search', { size: 100, pit: { id: pit.body.pit_id }, slice: { id, max }, sort: [{ id: 'asc' }] })
          expect(r.status).toBe(200)
          out.push(r.body.hits.hits.map((h: Body) => h._id))
        }
        await call('DELETE', '/_search/point_in_time', { pit_id: [pit.body.pit_id] })
        return out
      }
      const first = await slicesOf(4)
      expect(first.flat().sort()).toEqual([...ids].sort())
      expect(new Set(first.flat()).size).toBe(ids.length)
      expect(first.filter((s) => s.length > 0).length).toBeGreaterThan(1)
      expect(await slicesOf(4)).toEqual(first)
      expect((await slicesOf(2)).flat().sort()).toEqual([...ids].sort())
    })

    it('refuses a slice whose id is not below max, a max below 2, a max over index.max_slices_per_pit, and a slice without a point-in-time or scroll', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { settings: { index: { number_of_replicas: 0, max_slices_per_pit: 2 } }, mappings: { properties: { id: { type: 'keyword' } } } })
      await call('PUT', `/${idx}/_doc/1?refresh=true`, { id: '1' })
      const pit = await call('POST', `/${idx}/_search/point_in_time?keep_alive=1m`)
      const sliced = (slice: Body) => call('POST', '/_search', { size: 10, pit: { id: pit.body.pit_id }, slice, sort: [{ id: 'asc' }] })
      for (const slice of [{ id: 2, max: 2 }, { id: 0, max: 1 }, { id: -1, max: 2 }]) {
        const r = await sliced(slice)
        expect(r.status).toBe(400)
        expect(r.body.error.type).toBe('x_content_parse_exception')
        expect(r.body.error.caused_by.type).toBe('illegal_argument_exception')
      }
      const tooMany = await sliced({ id: 0, max: 3 })
      expect(tooMany.status).toBe(429)
      expect(JSON.stringify(tooMany.body)).toContain('max_slices_per_pit')
      expect((await sliced({ id: 1, max: 2 })).status).toBe(200)
      await call('DELETE', '/_search/point_in_time', { pit_id: [pit.body.pit_id] })
      const plain = await call('POST', `/${idx}/_search`, { slice: { id: 0, max: 2 } })
      expect(plain.status).toBe(400)
      expect(plain.body.error.type).toBe('action_request_validation_exception')
      expect(JSON.stringify(plain.body)).toContain('[slice] can only be used with [scroll] or [point-in-time] requests')
      const scroll = await call('POST', `/${idx}/_search?scroll=1m`, { size: 10, slice: { id: 0, max: 2 } })
      expect(scroll.status).toBe(200)
      await call('DELETE', '/_search/scroll', { scroll_id: [scroll.body._scroll_id] })
    })

    it('writes a document conditionally on _seq_no and _primary_term: a stale condition answers 409 version_conflict_engine_exception', async () => {
      const idx = fresh()
      await call('PUT', `/${idx}`, { settings: { index: { number_of_replicas: 0 } } })
      const first = await call('PUT', `/${idx}/_doc/l?op_type=create`, { holder: 'a' })
      expect(first.status).toBe(201)
      const cond = (seqNo: number, term: number) => `if_seq_no=${seqNo}&if_primary_term=${term}`
      const renewed = await call('PUT', `/${idx}/_doc/l?${cond(first.body._seq_no, first.body._primary_term)}`, { holder: 'a' })
      expect(renewed.status).toBe(200)
      expect(renewed.body._seq_no).toBeGreaterThan(first.body._seq_no)
      const stale = await call('PUT', `/${idx}/_doc/l?${cond(first.body._seq_no, first.body._primary_term)}`, { holder: 'b' })
      expect(stale.status).toBe(409)
      expect(stale.body.error.type).toBe('version_conflict_engine_exception')
      const otherTerm = await call('PUT', `/${idx}/_doc/l?${cond(renewed.body._seq_no, renewed.body._primary_term + 1)}`, { holder: 'b' })
      expect(otherTerm.status).toBe(409)
      expect(otherTerm.body.error.type).toBe('version_conflict_engine_exception')
      expect((await call('GET', `/${idx}/_doc/l`)).body._source.holder).toBe('a')
    })

    it('applies the k-NN mapping rules of its version', async () => {
      await expectKnnRulesOfItsVersion(node(), fresh)
    })
  })
}
