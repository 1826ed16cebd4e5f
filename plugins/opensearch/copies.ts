/**
 * Per-document freshness on OpenSearch. Every generation index holds a copy of each document
 * of the index the application writes (the live one), and every vector embedform writes is
 * stored with the hash of the text it was made from, in the `embedform` object of the document.
 *
 * OpenSearch has no triggers, so nothing queues a change when the application writes. What the
 * application must provide for catch-up to cost as much as the changes, not the collection: an
 * updated-at field (`updated_at` in the collection) that it sets on every insert and edit. A
 * generation's checkpoint is the newest updated-at value the live index held when the
 * generation's copy was last complete; the change queue of a generation is then the documents of
 * the live index with updated-at ≥ checkpoint (read after a `_refresh`, since search only sees
 * refreshed writes) whose copy is missing, differs in text hash, or is an older version.
 * Without an updated-at field, every pass compares every document (cost ∝ collection). Either
 * way, text edits are detected by hash, not trusted from the field: a document whose updated-at
 * did not move but whose text changed shows up as stale in freshness/verify (`untracked`).
 * Deletes leave no trace in the live index; they are found by comparing document counts and,
 * only when those differ, the id sets.
 */
import { createHash } from 'node:crypto'
import type { Collection } from '../../src/core/types.js'
import { enc, type Json, type OsHttp } from './http.js'
import { documentText, epochMillis } from './text.js'

/** Object field embedform adds to every generation's mapping. */
export const RECORD_FIELD = 'embedform'
export const RECORD_MAPPING = { properties: { text_hash: { type: 'keyword' }, zero_vector: { type: 'boolean' }, skipped: { type: 'boolean' } } }

export interface VectorRecord {
  text_hash: string
  zero_vector?: true
  /** Written with no vector (zero_vectors: skip): the knn_vector field is left out of the document. */
  skipped?: true
}

export const textHash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22)

/** skipped: no vector by zero_vectors: skip, recorded from the document's current text (done). */
export type RowState = 'fresh' | 'stale' | 'missing' | 'unverified' | 'skipped'

/** One document of the index the application writes, as a change-queue candidate. */
export interface SourceDoc {
  id: string
  source: Json
  text: string
  hash: string
  /** updated-at in epoch ms, when the collection has the field and the document a value. */
  updatedAt: number | undefined
}

/** What a generation index holds for one id (mget: real-time, no refresh needed). */
export interface Copy {
  hash: string | null
  hasVector: boolean
  /** Written with no vector (the record's skipped marker). */
  skipped: boolean
  updatedAt: number | undefined
  seqNo: number
  primaryTerm: number
}

export function sourceDoc(c: Collection, id: string, source: Json): SourceDoc {
  const text = documentText(c.text, source)
  return { id, source, text, hash: textHash(text), updatedAt: c.updatedAt ? epochMillis(source[c.updatedAt]) : undefined }
}

/** The document minus what belongs to one generation (its vector and its record). */
export function sharedSource(c: Collection, source: Json): Json {
  const { [c.vector]: _vector, [RECORD_FIELD]: _record, ...rest } = source
  return rest
}

/**
 * Copies of `ids` in `index`. Documents embedform wrote carry their record; for the others the
 * vector itself is read, only for them, to tell a missing vector from one made elsewhere.
 */
export async function readCopies(http: OsHttp, c: Collection, index: string, ids: string[]): Promise<Map<string, Copy>> {
  const out = new Map<string, Copy>()
  if (ids.length === 0) return out
  const includes = [`${RECORD_FIELD}.*`, ...(c.updatedAt ? [c.updatedAt] : [])].join(',')
  const r = await http.request({ method: 'POST', path: `/${enc(index)}/_mget`, query: { _source_includes: includes }, body: { ids } })
  const unrecorded: string[] = []
  for (const d of (r.body.docs ?? []) as Json[]) {
    if (!d.found) continue
    const src = (d._source ?? {}) as Json
    const hash = typeof src[RECORD_FIELD]?.text_hash === 'string' ? (src[RECORD_FIELD].text_hash as string) : null
    const skipped = hash !== null && src[RECORD_FIELD]?.skipped === true
    const id = String(d._id)
    out.set(id, { hash, hasVector: hash !== null && !skipped, skipped, updatedAt: c.updatedAt ? epochMillis(src[c.updatedAt]) : undefined, seqNo: Number(d._seq_no), primaryTerm: Number(d._primary_term) })
    if (hash === null) unrecorded.push(id)
  }
  if (unrecorded.length > 0) {
    const v = await http.request({ method: 'POST', path: `/${enc(index)}/_mget`, query: { _source_includes: c.vector }, body: { ids: unrecorded } })
    for (const d of (v.body.docs ?? []) as Json[]) {
      const copy = out.get(String(d._id))
      if (copy && d.found && Array.isArray(d._source?.[c.vector])) copy.hasVector = true
    }
  }
  return out
}

export function rowState(doc: SourceDoc, copy: Copy | undefined): RowState {
  // A skipped copy whose text changed since needs a vector like any document without one.
  if (copy?.skipped) return copy.hash === doc.hash ? 'skipped' : 'missing'
  if (!copy || !copy.hasVector) return 'missing'
  if (copy.hash === null) return 'unverified'
  return copy.hash === doc.hash ? 'fresh' : 'stale'
}

/**
 * A copy that holds an older version of the document than the live index (another field than
 * the text changed): it needs the new source, not a new vector.
 */
export function copyOutdated(doc: SourceDoc, copy: Copy | undefined): boolean {
  return copy !== undefined && doc.updatedAt !== undefined && doc.updatedAt !== copy.updatedAt
}

/** The external version a copy is written with: the document's updated-at, when it is a valid one. */
export function externalVersion(doc: SourceDoc): number | undefined {
  // external_gte refuses negative versions: documents dated before 1970 are written unversioned.
  return doc.updatedAt !== undefined && doc.updatedAt >= 0 ? doc.updatedAt : undefined
}
