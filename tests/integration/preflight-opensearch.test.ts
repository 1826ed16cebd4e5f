/**
 * OpenSearch preflight against the double: a text (unsortable) key, an unmapped key or text
 * field, and a vector field that is not a knn_vector are input errors at plan time, naming the
 * field, before anything is created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OsHttp } from '../../plugins/opensearch/index.js'
import { preflight } from '../../plugins/opensearch/preflight.js'
import type { Collection } from '../../src/core/types.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'

let double: OpenSearchDouble
let http: OsHttp
const desired = { dimensions: 8, storage: 'vector' as const, createsObjects: true, cutsOver: true }

function collection(target: string, over: Partial<Collection> = {}): Collection {
  return { name: target, store: 'os', profile: 'p', target, key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding', ...over }
}

async function index(name: string, properties: Record<string, unknown>): Promise<void> {
  await http.request({ method: 'PUT', path: `/${name}`, body: { mappings: { properties } } })
}

beforeAll(async () => {
  double = await startOpenSearchDouble()
  http = OsHttp.fromStore({ name: 'os', kind: 'opensearch', node: double.url })
  await index('fine', { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } })
  await index('textkey', { id: { type: 'text', fields: { keyword: { type: 'keyword' } } }, title: { type: 'text' }, body: { type: 'text' } })
  await index('typos', { doc_id: { type: 'long' }, Title: { type: 'text' }, body: { type: 'text' }, embedding: { type: 'float' } })
})
afterAll(async () => {
  await http?.close()
  await double?.close()
})

describe('OpenSearch preflight', () => {
  it('passes a keyword key with mapped text fields', async () => {
    expect(await preflight(http, collection('fine'), desired)).toEqual([])
  })

  it('refuses a text key and points at its keyword sub-field, which it then accepts', async () => {
    const [p] = await preflight(http, collection('textkey'), desired)
    expect(p).toMatchObject({ code: 'E_PREFLIGHT_KEY_NOT_SORTABLE', severity: 'error', object: 'field textkey.id' })
    expect(p?.hint).toBe('set `key: id.keyword` in collections.textkey (its keyword sub-field sorts)')
    expect(await preflight(http, collection('textkey', { key: 'id.keyword' }), desired)).toEqual([])
  })

  it('names an unmapped key, a text field with the wrong case, and a vector field that is not a knn_vector', async () => {
    const problems = await preflight(http, collection('typos'), desired)
    expect(problems.map((p) => [p.code, p.object])).toEqual([
      ['E_PREFLIGHT_KEY_MISSING', 'field typos.id'],
      ['E_PREFLIGHT_TEXT_COLUMN', 'field typos.title'],
      ['E_PREFLIGHT_VECTOR_TYPE', 'field typos.embedding'],
    ])
    expect(problems[1]?.hint).toMatch(/did you mean "Title"\?/)
    expect(problems[2]?.message).toBe('vector field "embedding" of index typos is float, not a knn_vector')
  })

  it('reports a missing alias or index', async () => {
    expect(await preflight(http, collection('absent'), desired)).toMatchObject([{ code: 'E_COLLECTION_MISSING', object: 'alias absent' }])
  })
})
