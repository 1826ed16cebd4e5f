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
import { changeRecord, WRITER_SETTING, type ChangeRecord } from './changes.js'
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
  /** Where hashes are recorded and changes dequeued (default: the collection's own record). */
  record?: Pick<ChangeRecord, 'queue' | 'hashes'>
}

/** Rounds per batch (see writeInRounds). */
const ROUNDS = 3

/**
 * Which rows of the batch one statement writes: all, or only those whose row version sits at a
 * line pointer ≡ round (mod ROUNDS) on its page (see writeInRounds).
 */
export type Round = 'all' | number

/**
 * Writes `rows` inside the caller's transaction; returns the keys the guard let through (as
 * text). With a round, only rows at that line-pointer parity are written.
 */
export async function writeVectors(tx: Queryable, t: WriteTarget, rows: VectorRow[], round: Round = 'all'): Promise<string[]> {
  if (rows.length === 0) return []
  const { ref } = t
  const rec = t.record ?? changeRecord(ref)
  const text = textExpression(ref, 't', 2)
  await tx.query(`SELECT set_config('${WRITER_SETTING}', 'on', true)`)
  await tx.query(`CREATE TEMP TABLE IF NOT EXISTS embedform_write (k text, token text, v vector) ON COMMIT DELETE ROWS`)
  await tx.copyIn('embedform_write', ['k', 'token', 'v'], encodeCopyRows(rows.map((r) => ({ key: String(r.key), token: r.token ?? null, vector: r.vector }))))
  // Without statistics the planner guesses the temp table's size and may join it by scanning
  // the whole target table once per batch.
  await tx.query('ANALYZE embedform_write')
  const parity = round === 'all' ? '' : ` AND (t.ctid::text::point)[1]::int % ${ROUNDS} = ${Math.trunc(round)}`
  const r = await tx.query<{ k: string }>(
    `WITH u AS (
       UPDATE ${ref.qualified} t SET ${quoteIdent(t.physical)} = w.v::${t.storage}
         FROM embedform_write w
        WHERE t.${quoteIdent(ref.key)} = w.k::${t.keyType} AND (w.token IS NULL OR md5(${text.sql}) = w.token)${parity}
        RETURNING w.k, md5(${text.sql}) AS h
     ), recorded AS (
       INSERT INTO ${rec.hashes} (g, k, h) SELECT $1::int, k, h FROM u
       ON CONFLICT (g, k) DO UPDATE SET h = EXCLUDED.h
     ), dequeued AS (
       DELETE FROM ${rec.queue} q USING u WHERE q.g = $1::int AND q.k = u.k
     )
     SELECT k FROM u`,
    [t.generation, ...text.params],
  )
  // A second round in the same transaction (the probe's) must not see this round's rows.
  await tx.query('DELETE FROM embedform_write')
  return r.rows.map((row) => row.k)
}

/**
 * A heap-only update needs room for the new row version on the row's own page, and the old
 * versions of rows updated in the same transaction still take their space. Writing a third of
 * each page's rows per transaction (by line pointer) and committing in between lets the page be
 * pruned (the old versions are dead by then) before the next third is written, so nearly every
 * row fits where it is. Measured on a table of ~7 rows per page: 24% heap-only in one
 * transaction, 91% in two, 100% in three.
 */
export async function writeInRounds(transaction: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>, t: WriteTarget, rows: VectorRow[]): Promise<number> {
  const done = new Set<string>()
  for (let round = 0; round < ROUNDS; round++) {
    const left = rows.filter((r) => !done.has(String(r.key)))
    if (left.length === 0) break
    const written = await transaction((tx) => writeVectors(tx, t, left, round === ROUNDS - 1 ? 'all' : round))
    for (const k of written) done.add(k)
  }
  return done.size
}
