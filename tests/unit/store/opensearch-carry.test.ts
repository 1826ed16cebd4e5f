import { describe, expect, it } from 'vitest'
import { carriedFrom, describeCarried, flatSettings } from '../../../plugins/opensearch/carry.js'

const live = {
  settings: {
    number_of_shards: '2',
    number_of_replicas: '1',
    refresh_interval: '5s',
    uuid: 'abc',
    creation_date: '1700000000000',
    provided_name: 'docs',
    version: { created: '136327827' },
    blocks: { write: 'true' },
    knn: 'true',
    'knn.algo_param': { ef_search: '256' },
    sort: { field: 'published', order: 'desc' },
    codec: 'best_compression',
    analysis: { analyzer: { folded: { tokenizer: 'standard' } } },
  },
  mappings: {
    dynamic: 'strict',
    dynamic_templates: [{ labels: { match: 'label_*', mapping: { type: 'keyword' } } }],
    _source: { excludes: ['scratch'] },
    _routing: { required: false },
    _meta: { team: 'search' },
    properties: { id: { type: 'keyword' }, published: { type: 'date' }, embedding: { type: 'knn_vector', dimension: 4 } },
  },
}

describe('settings carried to a new OpenSearch generation', () => {
  it('keeps what the application depends on and drops what identifies the old index', () => {
    const c = carriedFrom(live)
    expect(c.settings).toEqual({
      number_of_shards: '2',
      number_of_replicas: '1',
      refresh_interval: '5s',
      'knn.algo_param.ef_search': '256',
      'sort.field': 'published',
      'sort.order': 'desc',
      codec: 'best_compression',
      'analysis.analyzer.folded.tokenizer': 'standard',
    })
    expect(c.mappingParts).toEqual({ dynamic: 'strict', dynamic_templates: live.mappings.dynamic_templates, _source: { excludes: ['scratch'] }, _routing: { required: false } })
    expect(c.meta).toEqual({ team: 'search' })
    expect(Object.keys(c.properties)).toEqual(['id', 'published', 'embedding'])
  })

  it('describes each carried part for the plan, one line each', () => {
    const lines = describeCarried(carriedFrom(live), 'embedding')
    expect(lines).toEqual([
      'index.knn.algo_param.ef_search=256',
      'index sort field=published order=desc',
      'index.number_of_shards=2',
      'index.codec=best_compression',
      'index.analysis: analyzer.folded',
      'mapping dynamic=strict',
      'mapping dynamic_templates: labels',
      'mapping _source {"excludes":["scratch"]}',
      'mapping _routing {"required":false}',
      '2 field mapping(s): id, published',
    ])
  })

  it('flattens nested settings the way the index API accepts them back', () => {
    expect(flatSettings({ index: { knn: { algo_param: { ef_search: 100 } } } })).toEqual({ 'index.knn.algo_param.ef_search': 100 })
  })
})
