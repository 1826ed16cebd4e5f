/**
 * The one write path for vectors, used by backfill, catch-up, sync and the held drain of a
 * cutover: binary COPY into a temp table, then one statement that updates the generation's
 * column, records the text hash and takes the row off the change queue.
 *
 * Token guard: a row whose text no longer hashes to the token it was read with is skipped and
 * stays queued. The UPDATE holds the row lock when it checks, so a row it writes is fresh with
 * respect to every committed edit; the queue entries it deletes describe edits that text already
 * contains. An edit committed after the statement's snapshot keeps its entry and is looked at again.
 */
import type { VectorRow } from '../../src/store/adapter.js'
import { changeRecord, WRITER_SETTING } from './changes.js'
import { encodeCopyRows } from './copy-binary.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { textExpression, type TableRef } from './table-ref.js'

export interface WriteTarget {
  ref: TableRef
  generation: number
  /** The generation's current column. */
  physical: string
  storage: 'vector' | 'halfvec'
  /** SQL type of the key column (`bigint`, `text`, `uuid`…), read from the catalog. */
  keyType: string
}

/** Writes `rows` inside the caller's transaction; returns how many rows the guard let through. */
export async function writeVectors(tx: Queryable, t: WriteTarget, rows: VectorRow[]): Promise<number> {
  if (rows.length === 0) return 0
  const { ref } = t
  const rec = changeRecord(ref)
  const text = textExpression(ref, 't', 2)
  await tx.query(`SELECT set_config('${WRITER_SETTING}', 'on', true)`)
  await tx.query(`CREATE TEMP TABLE IF NOT EXISTS embedform_write (k text, token text, v vector) ON COMMIT DELETE ROWS`)
  await tx.copyIn('embedform_write', ['k', 'token', 'v'], encodeCopyRows(rows.map((r) => ({ key: String(r.key), token: r.token ?? null, vector: r.vector }))))
  // Without statistics the planner guesses the temp table's size and may join it by scanning
  // the whole target table once per batch.
  await tx.query('ANALYZE embedform_write')
  const r = await tx.query<{ n: number }>(
    `WITH u AS (
       UPDATE ${ref.qualified} t SET ${quoteIdent(t.physical)} = w.v::${t.storage}
         FROM embedform_write w
        WHERE t.${quoteIdent(ref.key)} = w.k::${t.keyType} AND (w.token IS NULL OR md5(${text.sql}) = w.token)
        RETURNING w.k, md5(${text.sql}) AS h
     ), recorded AS (
       INSERT INTO ${rec.hashes} (g, k, h) SELECT $1::int, k, h FROM u
       ON CONFLICT (g, k) DO UPDATE SET h = EXCLUDED.h
     ), dequeued AS (
       DELETE FROM ${rec.queue} q USING u WHERE q.g = $1::int AND q.k = u.k
     )
     SELECT count(*)::int AS n FROM u`,
    [t.generation, ...text.params],
  )
  return r.rows[0]?.n ?? 0
}
