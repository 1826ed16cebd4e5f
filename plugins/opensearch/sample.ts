/**
 * Documents drawn at random for `plan --sample` and `status --attest`: one read of the index the
 * application writes (point-in-time paging, vectors excluded) with a reservoir of n documents, so
 * every document has the same chance whatever the shard layout; then, for a generation, its
 * copies' text-hash records and vectors by id (real-time GET, no refresh). Read-only.
 */
import type { Collection } from '../../src/core/types.js'
import type { SampledRow } from '../../src/store/adapter.js'
import { readCopies, RECORD_FIELD, rowState, sourceDoc, type SourceDoc } from './copies.js'
import { enc, type Json, type OsHttp } from './http.js'
import { scanIndex } from './paging.js'

const PAGE = 1000

async function reservoir(http: OsHttp, c: Collection, source: string, n: number): Promise<SourceDoc[]> {
  const chosen: SourceDoc[] = []
  let seen = 0
  for await (const hits of scanIndex(http, source, { sortField: c.key, pageSize: PAGE, sourceExcludes: [c.vector, RECORD_FIELD] })) {
    for (const h of hits) {
      seen++
      if (chosen.length < n) chosen.push(sourceDoc(c, h.id, h.source))
      else {
        const j = Math.floor(Math.random() * seen)
        if (j < n) chosen[j] = sourceDoc(c, h.id, h.source)
      }
    }
  }
  return chosen
}

async function vectorsOf(http: OsHttp, c: Collection, index: string, ids: string[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>()
  if (ids.length === 0) return out
  const r = await http.request({ method: 'POST', path: `/${enc(index)}/_mget`, query: { _source_includes: c.vector }, body: { ids } })
  for (const d of (r.body.docs ?? []) as Json[]) {
    const v = d.found ? d._source?.[c.vector] : undefined
    if (Array.isArray(v)) out.set(String(d._id), Float32Array.from(v as number[]))
  }
  return out
}

export async function sampleDocs(http: OsHttp, c: Collection, source: string, n: number, generationIndex?: string): Promise<SampledRow[]> {
  const docs = await reservoir(http, c, source, n)
  if (generationIndex === undefined) return docs.map((d) => ({ key: d.id, text: d.text }))
  const ids = docs.map((d) => d.id)
  const copies = await readCopies(http, c, generationIndex, ids)
  const vectors = await vectorsOf(http, c, generationIndex, ids)
  return docs.map((d) => {
    const record = rowState(d, copies.get(d.id))
    const vector = vectors.get(d.id) ?? null
    if (record === 'skipped') return { key: d.id, text: d.text, vector: null, record }
    return { key: d.id, text: d.text, vector: record === 'missing' ? null : vector, record: vector ? record : 'missing' }
  })
}
