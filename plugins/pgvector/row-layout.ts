/**
 * Heap-only backfill writes. Filling a new column grows every row; a grown row rarely fits on
 * its page, so PostgreSQL writes it elsewhere and inserts the new version into EVERY index of
 * the table — the live HNSW index included (measured: 715 rows/s with an HNSW index on the live
 * column against ~50k rows/s without). With `toast_tuple_target` at its minimum, the updated row
 * moves its large values (the live vector, the new vector, long text) out of line into TOAST, so
 * the new version is ~100 bytes and fits in the free space of its own page: a heap-only (HOT)
 * update, which touches no index because no indexed column changed (the new generation's index
 * is only built after the backfill). Measured on this machine: 10,000 rows of 384-d with an HNSW
 * index on the live column, 24.7 s → 0.19 s, 0 → 100% HOT.
 *
 * A row that still has to move (its page had no room even for the compact version) lands on a
 * page filled to `fillfactor`; at 100 those pages are full of compact rows, which grow by a TOAST
 * pointer in the next generation and so could never be updated in place again. While a
 * generation builds, new pages keep BUILD_FILLFACTOR's free space instead.
 *
 * Every row a backfill writes leaves a dead version, so autovacuum visits the table again and
 * again while a generation builds. Heap pruning needs no index, but a vacuum that finds any dead
 * line pointer (an application's delete, a row that had to move) scans every index of the
 * table, and pgvector's HNSW vacuum walks and repairs the whole graph: measured at 200k rows, one
 * such autovacuum took 94 CPU-seconds of a 240 s backfill, on a 2-core machine the encoder
 * needed. `vacuum_index_cleanup = off` defers that index pass (dead line pointers stay, 4 bytes
 * each, the space of dead rows is still reclaimed) to the first vacuum after the build ends.
 *
 * The backfill's own writes count as modifications of the table, so autovacuum would also ANALYZE
 * it after every tenth of the table written, each time reading a 30,000-row sample with its
 * TOASTed vectors, and the ANALYZE's snapshot keeps every row version the write leaves dead
 * meanwhile from being pruned: rows then find no room on their page and move, each move an
 * insert into every HNSW graph (measured at 50k rows with ANALYZE running beside the write:
 * 59–109 rows moved, 13.6–17.2k rows/s against 1 and 27.3k). While a generation builds,
 * `autovacuum_analyze_threshold` is raised by the table's row count: the application's own
 * changes still bring an ANALYZE at about the point they would have, on top of the one write per
 * row the backfill makes.
 *
 * All four settings are the table's, so the application's own writes and vacuums follow them
 * while a generation is building; they are put back exactly as they were at cutover or when the
 * building generation is dropped.
 */
import type { Queryable } from './driver.js'
import { quoteLiteral } from './identifiers.js'
import { LEFT_AS_IS } from './state.js'
import type { TableRef } from './table-ref.js'

/** PostgreSQL's lowest allowed value. */
export const COMPACT_TOAST_TARGET = 128
/** Room for a few compact row versions (~150 bytes each) on every page a moved row lands on. */
export const BUILD_FILLFACTOR = 80

/** The largest value an integer reloption takes. */
const MAX_INT_OPTION = 2_147_483_647

/** What the build's values are computed from besides the table's own options. */
interface TableFacts {
  /** pg_class.reltuples (-1: never vacuumed or analyzed). */
  rows: number
  /** The server's autovacuum_analyze_threshold, for a table that sets none. */
  analyzeThreshold: number
}

/**
 * Each saved option and the value it takes while a generation builds, from the table's own
 * (null: not set on the table).
 */
const BUILD_VALUES = {
  toast_tuple_target: () => String(COMPACT_TOAST_TARGET),
  fillfactor: (was: string | null) => String(Math.min(BUILD_FILLFACTOR, parseSetting(was) ?? 100)),
  vacuum_index_cleanup: () => 'off',
  autovacuum_analyze_threshold: (was: string | null, t: TableFacts) =>
    String(Math.min(MAX_INT_OPTION, (parseSetting(was) ?? t.analyzeThreshold) + Math.max(0, Math.round(t.rows)))),
} as const
type Option = keyof typeof BUILD_VALUES
const SAVED = Object.keys(BUILD_VALUES) as Option[]
type Saved = Record<Option, string | null>

export async function compactUpdatedRows(tx: Queryable, ref: TableRef): Promise<void> {
  const saved = await tx.query(`SELECT 1 FROM embedform.row_layout WHERE collection_key = $1`, [ref.collectionKey])
  if (saved.rows.length > 0) return
  const current = await tx.query<Saved & TableFacts>(
    `SELECT ${SAVED.map((o) => `(SELECT substr(o, ${o.length + 2}) FROM unnest(c.reloptions) o WHERE o LIKE '${o}=%') AS ${o}`).join(', ')},
            c.reltuples::float8 AS rows, current_setting('autovacuum_analyze_threshold')::int AS "analyzeThreshold"
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [ref.qualified],
  )
  const was = current.rows[0] ?? { ...(Object.fromEntries(SAVED.map((o) => [o, null])) as Saved), rows: 0, analyzeThreshold: 0 }
  await tx.query(`INSERT INTO embedform.row_layout (collection_key, ${SAVED.join(', ')}) VALUES ($1, ${SAVED.map((_, i) => `$${i + 2}`).join(', ')})`, [ref.collectionKey, ...SAVED.map((o) => was[o])])
  await tx.query(`ALTER TABLE ${ref.qualified} SET (${SAVED.map((o) => `${o} = ${quoteLiteral(BUILD_VALUES[o](was[o], was))}`).join(', ')})`)
}

export async function restoreRowLayout(tx: Queryable, ref: TableRef): Promise<void> {
  const saved = await tx.query<Saved>(`DELETE FROM embedform.row_layout WHERE collection_key = $1 RETURNING ${SAVED.join(', ')}`, [ref.collectionKey])
  const row = saved.rows[0]
  if (!row) return
  const set: string[] = []
  const reset: string[] = []
  for (const option of SAVED) {
    const original = row[option]
    if (original === LEFT_AS_IS) continue
    if (original === null) reset.push(option)
    else set.push(`${option} = ${quoteLiteral(original)}`)
  }
  if (set.length > 0) await tx.query(`ALTER TABLE ${ref.qualified} SET (${set.join(', ')})`)
  if (reset.length > 0) await tx.query(`ALTER TABLE ${ref.qualified} RESET (${reset.join(', ')})`)
}

function parseSetting(value: string | null): number | null {
  if (value === null) return null
  const n = Number.parseInt(value, 10)
  return Number.isInteger(n) ? n : null
}
