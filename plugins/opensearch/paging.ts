import { inputError } from '../../src/core/errors.js'
import type { Collection } from '../../src/core/types.js'
import { enc, type Json, type OsHttp } from './http.js'

export interface ScanHit {
  id: string
  source: Json
}

export interface ScanOptions {
  /** Unique keyword field: search_after needs a total order (sorting on `_id` loads fielddata). */
  sortField: string
  query?: Json
  sourceExcludes?: string[]
  sourceIncludes?: string[]
  pageSize: number
  /** Only this slice of a sliced scan (`id` < `max`, 2 ≤ `max` ≤ the index's max_slices_per_pit). */
  slice?: { id: number; max: number }
}

const KEEP_ALIVE = '10m'

/** Field types OpenSearch sorts on from doc values; `text` needs fielddata and is refused. */
const SORTABLE = new Set(['keyword', 'constant_keyword', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long', 'date', 'date_nanos', 'boolean', 'ip', 'version'])

/** The mapping of a dotted field path: object properties and multi-fields (`id.keyword`). */
export function fieldMapping(properties: Json, path: string): Json | undefined {
  const parts = path.split('.')
  let props: Json | undefined = properties
  let found: Json | undefined
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i] as string
    const next: Json | undefined = props?.[name] ?? (found?.fields as Json | undefined)?.[name]
    if (!next) return undefined
    found = next
    props = next.properties as Json | undefined
  }
  return found
}

/**
 * Pages are ordered by the collection's key with search_after, so the key must be a sortable,
 * unique field. A string id mapped dynamically is `text` with a `.keyword` sub-field: the
 * server refuses to sort on the `text` one.
 */
export function checkSortableKey(c: Collection, index: string, properties: Json): void {
  const m = fieldMapping(properties, c.key)
  const type = m?.type as string | undefined
  if (type && SORTABLE.has(type)) return
  const keyword = m?.fields && Object.entries(m.fields as Json).find(([, f]) => SORTABLE.has(String((f as Json).type)))?.[0]
  throw inputError('E_KEY_NOT_SORTABLE', type ? `key field ${c.key} of ${index} is mapped as ${type}, which OpenSearch cannot sort on` : `key field ${c.key} is not mapped in ${index}, so OpenSearch cannot sort on it`, {
    location: { path: `collections.${c.name}.key`, object: `index ${index}` },
    hint: keyword ? `set key: ${c.key}.${keyword} (the sortable sub-field)` : 'name a keyword, numeric or date field that holds a unique value per document',
  })
}

function hitsOf(body: Json): ScanHit[] {
  return ((body.hits?.hits ?? []) as Json[]).map((h) => ({ id: String(h._id), source: (h._source ?? {}) as Json }))
}

function sourceSpec(o: ScanOptions): Json | boolean {
  if (!o.sourceIncludes && !o.sourceExcludes) return true
  return { ...(o.sourceIncludes ? { includes: o.sourceIncludes } : {}), ...(o.sourceExcludes ? { excludes: o.sourceExcludes } : {}) }
}

/**
 * Every matching document of `index`, in key order, page by page: a point-in-time with
 * search_after, so concurrent writes neither shift nor repeat pages. Clusters without PIT
 * (before 2.4) get a scroll instead.
 */
export async function* scanIndex(http: OsHttp, index: string, o: ScanOptions): AsyncIterable<ScanHit[]> {
  const pit = await http.request({ method: 'POST', path: `/${enc(index)}/_search/point_in_time`, query: { keep_alive: KEEP_ALIVE }, accept: [400, 404, 405] })
  if (pit.status !== 200) {
    yield* scrollIndex(http, index, o)
    return
  }
  let pitId = String(pit.body.pit_id)
  try {
    let after: unknown[] | undefined
    for (;;) {
      const r = await http.request({
        method: 'POST',
        path: '/_search',
        body: {
          size: o.pageSize,
          query: o.query ?? { match_all: {} },
          sort: [{ [o.sortField]: 'asc' }],
          pit: { id: pitId, keep_alive: KEEP_ALIVE },
          _source: sourceSpec(o),
          track_total_hits: false,
          ...(o.slice ? { slice: o.slice } : {}),
          ...(after ? { search_after: after } : {}),
        },
      })
      pitId = String(r.body.pit_id ?? pitId)
      const hits = (r.body.hits?.hits ?? []) as Json[]
      if (hits.length === 0) return
      yield hitsOf(r.body)
      after = (hits[hits.length - 1] as Json).sort as unknown[]
      if (hits.length < o.pageSize) return
    }
  } finally {
    await http.request({ method: 'DELETE', path: '/_search/point_in_time', body: { pit_id: [pitId] }, accept: [404] })
  }
}

async function* scrollIndex(http: OsHttp, index: string, o: ScanOptions): AsyncIterable<ScanHit[]> {
  let r = await http.request({
    method: 'POST',
    path: `/${enc(index)}/_search`,
    query: { scroll: KEEP_ALIVE },
    body: { size: o.pageSize, query: o.query ?? { match_all: {} }, sort: [{ [o.sortField]: 'asc' }], _source: sourceSpec(o), ...(o.slice ? { slice: o.slice } : {}) },
  })
  let scrollId = String(r.body._scroll_id)
  try {
    for (;;) {
      const hits = hitsOf(r.body)
      if (hits.length === 0) return
      yield hits
      r = await http.request({ method: 'POST', path: '/_search/scroll', body: { scroll: KEEP_ALIVE, scroll_id: scrollId } })
      scrollId = String(r.body._scroll_id ?? scrollId)
    }
  } finally {
    await http.request({ method: 'DELETE', path: '/_search/scroll', body: { scroll_id: [scrollId] }, accept: [404] })
  }
}
