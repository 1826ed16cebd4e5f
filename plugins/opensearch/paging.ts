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
}

const KEEP_ALIVE = '10m'

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
    body: { size: o.pageSize, query: o.query ?? { match_all: {} }, sort: [{ [o.sortField]: 'asc' }], _source: sourceSpec(o) },
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
