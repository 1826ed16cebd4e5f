/**
 * The one write path for vectors, used by backfill, catch-up, sync and the held drain of a
 * cutover: binary COPY into a temp table, then one statement that updates the generation's
 * column, records the text hash and takes the row off the change queue.
 *
 * Token guard (row-token.ts): a row that is no longer the version it was read from and whose text
 * no longer hashes to the token's is skipped and stays queued. The UPDATE holds the row lock when
 * it checks, so a row it writes is fresh with respect to every committed edit; the queue entries it
 * deletes describe edits that text already contains. An edit committed after the statement's
 * snapshot keeps its entry and is looked at again. A row the guard let through has the token's
 * text, so the token's hash is the one recorded.
 */
import type { VectorRow } from '../../src/store/adapter.js'
import { changeRecord, WRITER_SETTING, type ChangeRecord } from './changes.js'
import { encodeCopyRows, type CopyRow } from './copy-binary.js'
import type { Connection, Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { tokenHashSql, tokenLocation, tokenMatchesSql } from './row-token.js'
import { textExpressionInline, type TableRef } from './table-ref.js'

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
  /**
   * An index covers the generation's column (built, or being built): no write to it can be
   * heap-only then, so writing in rounds would only cost transactions.
   */
  indexed?: boolean
}

/**
 * Rows of one page per round once the first rounds have made room. A compact row version is
 * ~150 bytes and a page a moved row lands on keeps 20% (1,638 bytes) free while a generation builds
 * (row-layout.ts): four fit even when nothing has been pruned yet.
 */
const ROWS_PER_PAGE_ROUND = 4
/**
 * Rows per transaction into an indexed column. Each row costs an insert into every vector index
 * of the table (milliseconds for HNSW), and an application edit of a row being written waits for
 * the transaction: small ones keep that wait short.
 */
const INDEXED_CHUNK = 100

/**
 * The batch this write path does best (the adapter's capabilities.batch). A batch takes a dozen or
 * more rounds whatever its size (their number follows rows per page, not rows per batch), each a
 * transaction with a fixed cost, so larger batches spread it (measured at 50k rows with a kNN
 * reader: 1,000 rows 18k rows/s, 2,000 24.6k, 4,000 26–28.7k, 8,000 29k with the reader's p99 at
 * 36 ms against 21). The byte cap bounds what a batch of wide vectors holds in memory: two
 * batches in the engine, one in the temp table (PostgreSQL's default temp_buffers is 8 MB).
 */
export const WRITE_BATCH = { rows: 4000, vectorBytes: 6 * 1024 * 1024 }

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

/**
 * The guarded UPDATE from `source` (columns k, token, v), recording the hashes and dequeuing the
 * rows written; selects the keys written as `k`. Without parameters, so it also runs in a script.
 */
function guardedUpdate(t: WriteTarget, source: string): string {
  const { ref } = t
  const rec = t.record ?? changeRecord(ref)
  const text = textExpressionInline(ref, 't')
  const g = `(${Math.trunc(t.generation)})::int`
  return `WITH u AS (
       UPDATE ${ref.qualified} t SET ${quoteIdent(t.physical)} = w.v::${t.storage}
         FROM ${source} w
        WHERE t.${quoteIdent(ref.key)} = w.k::${t.keyType} AND (w.token IS NULL OR ${tokenMatchesSql('t', text, 'w.token')})
        RETURNING w.k, CASE WHEN w.token IS NULL THEN md5(${text}) ELSE ${tokenHashSql('w.token')} END AS h
     ), recorded AS (
       INSERT INTO ${rec.hashes} (g, k, h) SELECT ${g}, k, h FROM u
       ON CONFLICT (g, k) DO UPDATE SET h = EXCLUDED.h
     ), dequeued AS (
       DELETE FROM ${rec.queue} q USING u WHERE q.g = ${g} AND q.k = u.k
     )
     SELECT k FROM u`
}

/**
 * The settings of a write: the change trigger ignores it, and one key lookup per row whatever the
 * planner guesses of the temp table (a hash join would scan the whole target table for every
 * batch, so a write would cost more as the table grows). Local to the transaction.
 */
const WRITE_SETTINGS = `SELECT set_config('${WRITER_SETTING}', 'on', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`

/** Writes `rows` inside the caller's transaction; returns the keys the guard let through (as text). */
export async function writeVectors(tx: Queryable, t: WriteTarget, rows: VectorRow[]): Promise<string[]> {
  if (rows.length === 0) return []
  await tx.query(`CREATE TEMP TABLE IF NOT EXISTS embedform_write (k text, token text, v vector) ON COMMIT DELETE ROWS`)
  await tx.copyIn('embedform_write', ['k', 'token', 'v'], encodeCopyRows(rows.map(copyRow)))
  await tx.query(WRITE_SETTINGS)
  const r = await tx.query<{ k: string }>(guardedUpdate(t, 'embedform_write'))
  // The caller's transaction goes on: what follows must not see these rows or settings.
  await tx.query('DELETE FROM embedform_write')
  await tx.query(`SELECT set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true)`)
  return r.rows.map((row) => row.k)
}

function copyRow(r: VectorRow): CopyRow {
  return { key: String(r.key), token: r.token ?? null, vector: r.vector }
}

/**
 * Which transaction each row is written in: the rows of one heap page in line-pointer order,
 * the first alone, then 1, 2, then ROWS_PER_PAGE_ROUND at a time. A heap-only update needs room
 * on the row's own page for the new row version while the old one still takes its space; once a
 * round commits, its old versions are dead and the next read of the page prunes them, so every
 * round finds the room the previous rounds freed. Rows that are already compact grow by a TOAST
 * pointer, so the room a round frees is slightly less than the next round needs: rounds stop
 * growing instead of doubling (measured: a page of 60 compact rows written 8 and 16 at a time
 * moved a third of them, each move an insert into every HNSW graph of the table). Rows that
 * moved since (a concurrent edit) only lose the heap-only chance, not correctness: the token
 * guard decides what is written.
 */
export function roundsByPage(rows: VectorRow[], located: Map<string, { page: number; lp: number }>): VectorRow[][] {
  const pages = new Map<number, { row: VectorRow; lp: number }[]>()
  const rounds: VectorRow[][] = [[]]
  for (const row of rows) {
    const at = located.get(String(row.key))
    if (!at) {
      rounds[0]!.push(row)
      continue
    }
    const onPage = pages.get(at.page) ?? []
    onPage.push({ row, lp: at.lp })
    pages.set(at.page, onPage)
  }
  for (const onPage of pages.values()) {
    onPage.sort((a, b) => a.lp - b.lp)
    onPage.forEach(({ row }, rank) => {
      const round = roundOf(rank)
      while (rounds.length <= round) rounds.push([])
      rounds[round]!.push(row)
    })
  }
  return rounds.filter((r) => r.length > 0)
}

/** Ranks 0 | 1 | 2-3 | then ROWS_PER_PAGE_ROUND per round. */
function roundOf(rank: number): number {
  if (rank < 2) return rank
  if (rank < 4) return 2
  return 3 + Math.floor((rank - 4) / ROWS_PER_PAGE_ROUND)
}

/** How long a round waits, once, for readers that could still see the previous round's old versions. */
const PRUNE_WAIT_SECONDS = 0.002

/**
 * A statement that sleeps PRUNE_WAIT_SECONDS if another session's snapshot (or transaction) is
 * as old as the previous round's transaction `xid`: that session can still see the round's old
 * row versions, so they cannot be pruned, and this round's rows on those pages would find no
 * room and move (each move an insert into every HNSW graph of the table, milliseconds). Readers'
 * queries take about that long; a longer-held snapshot is not waited for. Sessions in other
 * databases do not hold back this table's pruning.
 */
export function awaitPruning(xid: string): string {
  if (!/^\d+$/.test(xid)) throw new Error(`not a transaction id: ${xid}`)
  const asOld = (column: string) => `age(a.${column}) >= age('${xid}'::xid)`
  return `SELECT pg_sleep(${PRUNE_WAIT_SECONDS}) WHERE EXISTS (
     SELECT 1 FROM pg_stat_get_activity(NULL) a
      WHERE a.pid <> pg_backend_pid() AND coalesce(a.datid, 0) IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
        AND (${asOld('backend_xmin')} OR ${asOld('backend_xid')}))`
}

/** Where each row sat when it was read, from its token; rows without one are not placed. */
function locatedByToken(rows: VectorRow[]): Map<string, { page: number; lp: number }> {
  const located = new Map<string, { page: number; lp: number }>()
  for (const row of rows) {
    const at = row.token ? tokenLocation(row.token) : undefined
    if (at) located.set(String(row.key), at)
  }
  return located
}

/**
 * Writes a batch in rounds of committed transactions (see roundsByPage), or, when an index covers
 * the generation's column (no write to it can be heap-only then), in small transactions. The
 * batch goes over in one COPY, tagged with its rounds, into a temp table of the connection; each
 * round is then one round trip (BEGIN … COMMIT as one script), since a batch of compact rows
 * takes a dozen rounds and per-statement round trips cost as much as the UPDATEs themselves.
 * All rounds in one script would save the remaining round trips but lose heap-only updates: a
 * reader whose snapshot was taken while round i ran keeps round i's old versions from being
 * pruned, and round i+1, started at once, then finds no room on their pages (measured at 50k
 * rows with one kNN reader: 99.9 % heap-only and 16k rows/s, against 100 % and 19k). For the
 * same reason each round after the first first waits, briefly, for such readers (awaitPruning).
 * Returns the number of rows written.
 */
export async function writeInRounds(conn: Connection, t: WriteTarget, rows: VectorRow[]): Promise<number> {
  if (rows.length === 0) return 0
  const rounds = t.indexed ? chunks(rows, INDEXED_CHUNK) : roundsByPage(rows, locatedByToken(rows))
  await conn.script([
    `CREATE TEMP TABLE IF NOT EXISTS embedform_rounds (r int, k text, token text, v vector)`,
    // Each round reads its own rows: without the index every round would scan the whole batch.
    `CREATE INDEX IF NOT EXISTS embedform_rounds_r ON embedform_rounds (r)`,
    'TRUNCATE embedform_rounds',
  ])
  await conn.copyIn(
    'embedform_rounds',
    ['r', 'k', 'token', 'v'],
    encodeCopyRows(
      rounds.flatMap((round) => round.map(copyRow)),
      rounds.flatMap((round, i) => round.map(() => i)),
    ),
  )
  // Only other sessions' snapshots hold back pruning: none on PGlite, none to wait for when indexed.
  const waitForReaders = conn.native && !t.indexed
  let written = 0
  let previousXid: string | undefined
  for (let i = 0; i < rounds.length; i++) {
    const statements = [
      'BEGIN',
      // A batch lost in a crash is simply pending again (resume re-embeds it), so it need not wait for fsync.
      'SET LOCAL synchronous_commit = off',
      WRITE_SETTINGS,
      ...(previousXid ? [awaitPruning(previousXid)] : []),
    ]
    const updateAt = statements.push(guardedUpdate(t, `(SELECT k, token, v FROM embedform_rounds WHERE r = ${i})`)) - 1
    if (waitForReaders) statements.push(`SELECT (txid_current() % 4294967296)::text AS xid`)
    statements.push('COMMIT')
    const results = await conn.script(statements)
    written += results[updateAt]!.rows.length
    if (waitForReaders) previousXid = String((results[updateAt + 1]!.rows[0] as { xid: string }).xid)
  }
  return written
}
