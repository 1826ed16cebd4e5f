/**
 * Reads of the freshness record (changes.ts): the catch-up queue page, per-generation freshness
 * counts, and what verify checks in the data. All read-only except consumeQueue.
 */
import type { Freshness, PendingRow, QueueSlices, RowKey } from '../../src/store/adapter.js'
import { changeRecord } from './changes.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { tokenSql } from './row-token.js'
import { textExpression, type TableRef } from './table-ref.js'

export interface QueuedRow {
  /** Key as queued (text). */
  qk: string
  seq: string
  /** null: the row is gone. */
  k: RowKey | null
  text: string | null
  token: string | null
  /** The row already is fresh in this generation (an edit that changed nothing, or a vector written since). */
  fresh: boolean
}

/** One page of the generation's change queue after `afterSeq`, oldest first, joined with the rows. */
export async function queuePage(
  q: Queryable,
  ref: TableRef,
  generation: number,
  physical: string,
  keyType: string,
  afterSeq: string,
  limit: number,
  slices?: QueueSlices,
): Promise<QueuedRow[]> {
  const rec = changeRecord(ref)
  const text = textExpression(ref, 't', 4)
  const sliced = sliceFilter(slices, 4 + text.params.length)
  const r = await q.query<QueuedRow>(
    `SELECT c.k AS qk, c.seq::text AS seq, t.${quoteIdent(ref.key)} AS k,
            CASE WHEN t.${quoteIdent(ref.key)} IS NULL THEN NULL ELSE ${text.sql} END AS text,
            CASE WHEN t.${quoteIdent(ref.key)} IS NULL THEN NULL ELSE ${tokenSql('t', text.sql)} END AS token,
            (t.${quoteIdent(physical)} IS NOT NULL AND h.h = md5(${text.sql})) AS fresh
       FROM (SELECT k, seq FROM ${rec.queue} WHERE g = $1 AND seq > $2::bigint${sliced.sql} ORDER BY seq LIMIT $3) c
       LEFT JOIN ${ref.qualified} t ON t.${quoteIdent(ref.key)} = c.k::${keyType}
       LEFT JOIN ${rec.hashes} h ON h.g = $1 AND h.k = c.k
      ORDER BY c.seq`,
    [generation, afterSeq, limit, ...text.params, ...sliced.params],
  )
  return r.rows
}

/** `AND` clause keeping some slices of the queue (a stable hash of the key); parameters from `$first`. */
export function sliceFilter(slices: QueueSlices | undefined, first: number): { sql: string; params: (number | number[])[] } {
  if (!slices) return { sql: '', params: [] }
  return { sql: ` AND (hashtext(k) & 2147483647) % $${first + 1}::int = ANY($${first}::int[])`, params: [slices.ids, slices.max] }
}

/** Takes queue entries off when nothing is left to embed for them (row gone, or already fresh). */
export async function consumeQueue(q: Queryable, ref: TableRef, generation: number, entries: { qk: string; seq: string }[]): Promise<void> {
  if (entries.length === 0) return
  const rec = changeRecord(ref)
  // Only up to the seq read: an edit queued since then keeps its entry.
  await q.query(
    `DELETE FROM ${rec.queue} c USING unnest($2::text[], $3::bigint[]) AS d(k, seq)
      WHERE c.g = $1 AND c.k = d.k AND c.seq <= d.seq`,
    [generation, entries.map((e) => e.qk), entries.map((e) => e.seq)],
  )
}

export function toPending(rows: QueuedRow[]): PendingRow[] {
  return rows.filter((r) => r.k !== null && !r.fresh).map((r) => ({ key: r.k as RowKey, text: r.text ?? '', token: r.token ?? '' }))
}

interface Counts {
  rows: number
  populated: number
  fresh: number
  stale: number
  unverified: number
  /** No vector, written so (zero_vectors: skip) from the row's current text, and not queued since. */
  skipped: number
  untracked: number
  queued: number
  wrong: number
  zero: number
  /** Oldest queue entry's time, ISO; null when nothing is queued. */
  oldest: string | null
}

/**
 * Every row of the table against the generation's record, in one scan: what verify and exact
 * freshness report. Cost: one pass over the table with an md5 of each row's text.
 *
 * A NULL vector with a recorded hash of the current text is a skipped row: the application
 * writing the column itself drops the hash (changes.ts), so only embedform's own null write
 * leaves one. Queued, it is not counted skipped: a row deleted and inserted again with the same
 * key and text still has the old hash, and catch-up has yet to look at it.
 */
export async function exactCounts(q: Queryable, ref: TableRef, generation: number, physical: string, storage: 'vector' | 'halfvec', dimensions: number): Promise<Counts> {
  const rec = changeRecord(ref)
  const text = textExpression(ref, 't', 3)
  const col = `t.${quoteIdent(physical)}`
  const norm = storage === 'halfvec' ? 'l2_norm' : 'vector_norm'
  const r = await q.query<Counts>(
    `SELECT count(*)::float8 AS rows,
            count(${col})::float8 AS populated,
            count(*) FILTER (WHERE ${col} IS NOT NULL AND h.h = md5(${text.sql}))::float8 AS fresh,
            count(*) FILTER (WHERE ${col} IS NOT NULL AND (h.h <> md5(${text.sql}) OR (h.h IS NULL AND c.k IS NOT NULL)))::float8 AS stale,
            count(*) FILTER (WHERE ${col} IS NOT NULL AND h.h IS NULL AND c.k IS NULL)::float8 AS unverified,
            count(*) FILTER (WHERE ${col} IS NULL AND h.h = md5(${text.sql}) AND c.k IS NULL)::float8 AS skipped,
            count(*) FILTER (WHERE c.k IS NULL AND (${col} IS NULL OR h.h <> md5(${text.sql})) AND NOT (${col} IS NULL AND h.h IS NOT DISTINCT FROM md5(${text.sql})))::float8 AS untracked,
            count(c.k)::float8 AS queued,
            count(*) FILTER (WHERE ${col} IS NOT NULL AND vector_dims(${col}) <> $2)::float8 AS wrong,
            count(*) FILTER (WHERE ${col} IS NOT NULL AND ${norm}(${col}) = 0)::float8 AS zero,
            (SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM ${rec.queue} WHERE g = $1) AS oldest
       FROM ${ref.qualified} t
       LEFT JOIN ${rec.hashes} h ON h.g = $1 AND h.k = t.${quoteIdent(ref.key)}::text
       LEFT JOIN ${rec.queue} c ON c.g = $1 AND c.k = t.${quoteIdent(ref.key)}::text`,
    [generation, dimensions, ...text.params],
  )
  const row = r.rows[0]
  return row ?? { rows: 0, populated: 0, fresh: 0, stale: 0, unverified: 0, skipped: 0, untracked: 0, queued: 0, wrong: 0, zero: 0, oldest: null }
}

/**
 * For tables too big to scan on every `status`: rows and populated from statistics, the rest from
 * the queue and the hash table (both proportional to changes and writes, not to reads). Under
 * zero_vectors: skip, hash records beyond the rows holding a vector (and the queued rows without
 * one) are the skipped rows: an estimate, as populated is.
 */
export async function estimatedFreshness(
  q: Queryable,
  ref: TableRef,
  generation: number,
  physical: string,
  keyType: string,
  stats: { rows: number; populated: number },
  skip: boolean,
): Promise<Freshness> {
  const rec = changeRecord(ref)
  const text = textExpression(ref, 't', 2)
  const r = await q.query<{ queued: number; stale: number; missing: number; hashed: number; nullHashed: number; oldest: string | null }>(
    `SELECT (SELECT count(*) FROM ${rec.queue} WHERE g = $1)::float8 AS queued,
            (SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM ${rec.queue} WHERE g = $1) AS oldest,
            (SELECT count(*) FROM ${rec.hashes} WHERE g = $1)::float8 AS hashed,
            count(*) FILTER (WHERE t.${quoteIdent(physical)} IS NOT NULL AND (h.h <> md5(${text.sql}) OR h.h IS NULL))::float8 AS stale,
            count(*) FILTER (WHERE t.${quoteIdent(ref.key)} IS NOT NULL AND t.${quoteIdent(physical)} IS NULL)::float8 AS missing,
            count(*) FILTER (WHERE t.${quoteIdent(ref.key)} IS NOT NULL AND t.${quoteIdent(physical)} IS NULL AND h.h IS NOT NULL)::float8 AS "nullHashed"
       FROM ${rec.queue} c
       LEFT JOIN ${ref.qualified} t ON t.${quoteIdent(ref.key)} = c.k::${keyType}
       LEFT JOIN ${rec.hashes} h ON h.g = c.g AND h.k = c.k
      WHERE c.g = $1`,
    [generation, ...text.params],
  )
  const { queued = 0, stale = 0, hashed = 0, nullHashed = 0, oldest = null } = r.rows[0] ?? {}
  const skipped = skip ? Math.max(0, hashed - stats.populated - nullHashed) : 0
  const missing = Math.max(0, stats.rows - stats.populated - skipped)
  const unverified = Math.max(0, stats.populated - (skip ? hashed - skipped - nullHashed : hashed))
  return {
    generation,
    rows: stats.rows,
    fresh: Math.max(0, stats.populated - stale - unverified),
    stale,
    missing,
    unverified,
    queued,
    exact: false,
    oldestQueuedAt: oldest,
    skipped,
  }
}
