import { setTimeout as sleep } from 'node:timers/promises'
import { enc, type Json, type OsHttp } from './http.js'

export interface BulkItem {
  id: string
  op: 'index' | 'delete'
  source?: Json
  /** external_gte version: a copy older than what the index holds is refused, never applied. */
  version?: number
  /** Optimistic concurrency on the document as it was read (writes to the index the application writes too). */
  ifSeqNo?: number
  ifPrimaryTerm?: number
}

export interface BulkFailure {
  id: string
  status: number
  reason: string
}

export interface BulkOptions {
  /** Attempts for 429s, whole-request or per item. */
  attempts: number
  /** First backoff; doubles each retry, capped at 10 s. */
  backoffMs: number
}

export interface BulkResult {
  written: number
  /** Items refused because the index already holds a newer version, or the document changed since it was read: correct, not failures. */
  stale: number
  failures: BulkFailure[]
}

function lines(index: string, items: BulkItem[]): Json[] {
  return items.flatMap((it) => {
    const meta: Json = {
      _index: index,
      _id: it.id,
      ...(it.version !== undefined ? { version: it.version, version_type: 'external_gte' } : {}),
      ...(it.ifSeqNo !== undefined ? { if_seq_no: it.ifSeqNo, if_primary_term: it.ifPrimaryTerm } : {}),
    }
    return it.op === 'delete' ? [{ delete: meta }] : [{ index: meta }, it.source ?? {}]
  })
}

/**
 * `_bulk` with every item's status read: 429s (whole request or item) are retried with
 * exponential backoff, version conflicts on versioned writes count as stale, and every other
 * failure is returned per document id — nothing is dropped silently.
 */
export async function bulkWrite(http: OsHttp, index: string, items: BulkItem[], opts: BulkOptions): Promise<BulkResult> {
  const result: BulkResult = { written: 0, stale: 0, failures: [] }
  let todo = items
  for (let attempt = 1; todo.length > 0; attempt++) {
    // Documents are copied as the live index holds them, already through its ingest pipeline: running it again could rewrite them.
    const r = await http.request({ method: 'POST', path: `/${enc(index)}/_bulk`, lines: lines(index, todo), query: { pipeline: '_none' }, accept: [429] })
    const retry: BulkItem[] = []
    if (r.status === 429) {
      retry.push(...todo)
    } else {
      const answers = r.body.items as Json[]
      todo.forEach((it, i) => {
        const a = Object.values(answers[i] ?? {})[0] as Json | undefined
        const status = Number(a?.status ?? 500)
        if (status < 300 || (it.op === 'delete' && status === 404)) result.written++
        else if (status === 409 && (it.version !== undefined || it.ifSeqNo !== undefined)) result.stale++
        else if (status === 429) retry.push(it)
        else result.failures.push({ id: it.id, status, reason: errorReason(a?.error) })
      })
    }
    if (retry.length > 0 && attempt >= opts.attempts) {
      for (const it of retry) result.failures.push({ id: it.id, status: 429, reason: `still rejected (429) after ${attempt} attempts` })
      break
    }
    if (retry.length > 0) await sleep(Math.min(10_000, opts.backoffMs * 2 ** (attempt - 1)))
    todo = retry
  }
  return result
}

function errorReason(e: unknown): string {
  if (!e || typeof e !== 'object') return String(e ?? 'unknown error')
  const err = e as Json
  const cause = err.caused_by as Json | undefined
  return `${String(err.type)}: ${String(err.reason)}${cause ? ` (${String(cause.reason)})` : ''}`
}
