/**
 * Key-range leases for a backfill shared by several worker processes, on one machine or many,
 * coordinated by the database alone (`embedform.leases`):
 *
 * - the ranges are planned once per generation, over the keys still without a vector, about
 *   `rangeRows` rows each, half-open in key order: (lo, hi], with NULL for either open end;
 * - a worker claims the first free range with FOR UPDATE SKIP LOCKED, so two claims never wait on
 *   each other nor take the same range; a claim is a lease that expires unless it is renewed;
 * - a range whose holder died (kill -9, a lost machine) becomes free once its lease expires and
 *   is taken over; what the dead worker wrote has a vector already, and a backfill only reads rows
 *   without one, so nothing is embedded twice.
 */
import type { KeyRange, LeaseClaim } from '../../src/store/adapter.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import type { TableRef } from './table-ref.js'

const LEASES = 'embedform.leases'
/** Same class as the adapter's advisory locks ("emb"), objsubid apart by the key text. */
const PLAN_LOCK_CLASS = 0x656d62

export async function ensureLeases(q: Queryable): Promise<void> {
  await q.query(`CREATE SCHEMA IF NOT EXISTS embedform`)
  await q.query(
    `CREATE TABLE IF NOT EXISTS ${LEASES} (
       collection text NOT NULL, generation integer NOT NULL, kind text NOT NULL, range_id integer NOT NULL,
       lo text, hi text, holder text, expires_at timestamptz, done boolean NOT NULL DEFAULT false,
       dirty boolean NOT NULL DEFAULT false,
       PRIMARY KEY (collection, generation, kind, range_id))`,
  )
}

export async function leasesPlanned(q: Queryable, collection: string, generation: number): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>(
    `SELECT to_regclass('${LEASES}') IS NOT NULL AND EXISTS (SELECT 1 FROM ${LEASES} WHERE collection = $1 AND generation = $2 AND kind = 'backfill') AS ok`,
    [collection, generation],
  ).catch(() => ({ rows: [{ ok: false }] }))
  return r.rows[0]?.ok === true
}

/**
 * Splits the keys without a vector in `physical` into ranges of about `rangeRows`, once: a second
 * planner (another worker starting at the same moment) waits on the transaction lock, then finds
 * the plan made. Call inside a transaction.
 */
export async function planRanges(tx: Queryable, ref: TableRef, collection: string, generation: number, physical: string, rangeRows: number): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, [PLAN_LOCK_CLASS, `leases:${collection}:${generation}`])
  if (await leasesPlanned(tx, collection, generation)) return
  const key = quoteIdent(ref.key)
  const bounds = await tx.query<{ k: string }>(
    `SELECT k FROM (SELECT ${key}::text AS k, row_number() OVER (ORDER BY ${key}) AS rn
                      FROM ${ref.qualified} WHERE ${quoteIdent(physical)} IS NULL) s
      WHERE rn % $1 = 0 ORDER BY rn`,
    [Math.max(1, Math.trunc(rangeRows))],
  )
  const his: (string | null)[] = [...bounds.rows.map((b) => b.k), null]
  const los: (string | null)[] = [null, ...bounds.rows.map((b) => b.k)]
  await tx.query(
    `INSERT INTO ${LEASES} (collection, generation, kind, range_id, lo, hi)
     SELECT $1, $2, 'backfill', i, lo, hi FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS r(lo, hi, i)`,
    [collection, generation, los, his],
  )
}

/** The first free range (never claimed, or its lease expired), leased to `holder` for ttlMs. */
export async function claimRange(q: Queryable, collection: string, generation: number, holder: string, ttlMs: number): Promise<LeaseClaim> {
  const claimed = await q.query<{ range_id: number; lo: string | null; hi: string | null }>(
    `UPDATE ${LEASES} l SET holder = $3, expires_at = clock_timestamp() + $4::int * interval '1 millisecond'
      WHERE (l.collection, l.generation, l.range_id) IN (
        SELECT collection, generation, range_id FROM ${LEASES}
         WHERE collection = $1 AND generation = $2 AND kind = 'backfill' AND NOT done AND (holder IS NULL OR expires_at < clock_timestamp())
         ORDER BY range_id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING l.range_id, l.lo, l.hi`,
    [collection, generation, holder, Math.trunc(ttlMs)],
  )
  const row = claimed.rows[0]
  if (row) return { range: { id: row.range_id, lo: row.lo, hi: row.hi } }
  // Nothing free: either all done, or held by live workers (one of which may yet die).
  const left = await q.query<{ open: number; wait: number | null }>(
    `SELECT count(*)::int AS open,
            (extract(epoch FROM min(expires_at) - clock_timestamp()) * 1000)::float8 AS wait
       FROM ${LEASES} WHERE collection = $1 AND generation = $2 AND kind = 'backfill' AND NOT done`,
    [collection, generation],
  )
  const { open = 0, wait = null } = left.rows[0] ?? {}
  return open === 0 ? { done: true } : { waitMs: Math.max(0, wait ?? 0) }
}

/** Extends `holder`'s lease; false when it expired and another worker took the range over. */
export async function renewRange(q: Queryable, collection: string, generation: number, rangeId: number, holder: string, ttlMs: number): Promise<boolean> {
  const r = await q.query(
    `UPDATE ${LEASES} SET expires_at = clock_timestamp() + $5::int * interval '1 millisecond'
      WHERE collection = $1 AND generation = $2 AND kind = 'backfill' AND range_id = $3 AND holder = $4 AND NOT done RETURNING 1`,
    [collection, generation, rangeId, holder, Math.trunc(ttlMs)],
  )
  return r.rows.length > 0
}

export async function completeRange(q: Queryable, collection: string, generation: number, rangeId: number, holder: string): Promise<boolean> {
  const r = await q.query(`UPDATE ${LEASES} SET done = true WHERE collection = $1 AND generation = $2 AND kind = 'backfill' AND range_id = $3 AND holder = $4 RETURNING 1`, [
    collection,
    generation,
    rangeId,
    holder,
  ])
  return r.rows.length > 0
}

/** A dropped generation's plan must not survive into a new generation with the same id. */
export async function forgetLeases(q: Queryable, collection: string, generation: number): Promise<void> {
  const exists = await q.query<{ ok: boolean }>(`SELECT to_regclass('${LEASES}') IS NOT NULL AS ok`)
  if (exists.rows[0]?.ok) await q.query(`DELETE FROM ${LEASES} WHERE collection = $1 AND generation = $2`, [collection, generation])
}

/**
 * Sync slices: the change queue split by a hash of the key, each slice worked by one watcher at a
 * time. One statement claims every free slice (under the rows' locks) and marks the ones held by
 * others dirty, so their holder runs them again before letting go: a change committed while
 * another watcher works its slice is never left waiting for the next sweep.
 */
export async function claimSlices(q: Queryable, collection: string, generation: number, from: number, limit: number, max: number, holder: string, ttlMs: number): Promise<number[]> {
  await q.query(
    `INSERT INTO ${LEASES} (collection, generation, kind, range_id) SELECT $1, $2, 'sync', s FROM generate_series(0, $3::int - 1) s ON CONFLICT DO NOTHING`,
    [collection, generation, max],
  )
  // The first `limit` free slices from `from` on are taken; slices others hold are marked.
  const r = await q.query<{ id: number; mine: boolean }>(
    `WITH locked AS (
       SELECT range_id, (holder IS NULL OR expires_at < clock_timestamp() OR holder = $4) AS free FROM ${LEASES}
        WHERE collection = $1 AND generation = $2 AND kind = 'sync' AND range_id >= $6 AND range_id < $3 ORDER BY range_id FOR UPDATE),
     cur AS (SELECT range_id, free, row_number() OVER (PARTITION BY free ORDER BY range_id) AS n FROM locked)
     UPDATE ${LEASES} l SET
        holder = CASE WHEN cur.free THEN $4 ELSE l.holder END,
        expires_at = CASE WHEN cur.free THEN clock_timestamp() + $5::int * interval '1 millisecond' ELSE l.expires_at END,
        dirty = NOT cur.free
       FROM cur
      WHERE l.collection = $1 AND l.generation = $2 AND l.kind = 'sync' AND l.range_id = cur.range_id
        AND (NOT cur.free OR cur.n <= $7)
      RETURNING l.range_id AS id, cur.free AS mine`,
    [collection, generation, max, holder, Math.trunc(ttlMs), from, limit],
  )
  return r.rows.filter((x) => x.mine).map((x) => x.id).sort((a, b) => a - b)
}

export async function renewSlices(q: Queryable, collection: string, generation: number, ids: number[], holder: string, ttlMs: number): Promise<number[]> {
  const r = await q.query<{ id: number }>(
    `UPDATE ${LEASES} SET expires_at = clock_timestamp() + $5::int * interval '1 millisecond'
      WHERE collection = $1 AND generation = $2 AND kind = 'sync' AND range_id = ANY($3::int[]) AND holder = $4 RETURNING range_id AS id`,
    [collection, generation, ids, holder, Math.trunc(ttlMs)],
  )
  return r.rows.map((x) => x.id)
}

/** Lets go of `ids`, except those marked dirty meanwhile: returned, still held, to be run again. */
export async function releaseSlices(q: Queryable, collection: string, generation: number, ids: number[], holder: string): Promise<number[]> {
  const r = await q.query<{ id: number; dirty: boolean }>(
    `UPDATE ${LEASES} l SET holder = CASE WHEN old.dirty THEN l.holder ELSE NULL END,
                            expires_at = CASE WHEN old.dirty THEN l.expires_at ELSE NULL END, dirty = false
       FROM (SELECT range_id, dirty FROM ${LEASES}
              WHERE collection = $1 AND generation = $2 AND kind = 'sync' AND range_id = ANY($3::int[]) AND holder = $4 ORDER BY range_id FOR UPDATE) old
      WHERE l.collection = $1 AND l.generation = $2 AND l.kind = 'sync' AND l.range_id = old.range_id
      RETURNING l.range_id AS id, old.dirty AS dirty`,
    [collection, generation, ids, holder],
  )
  return r.rows.filter((x) => x.dirty).map((x) => x.id).sort((a, b) => a - b)
}

/** `AND` clause restricting a backfill page to a range; parameters start at `$first`. */
export function rangeFilter(ref: TableRef, keyType: string, range: KeyRange | undefined, first: number): { sql: string; params: string[] } {
  if (!range) return { sql: '', params: [] }
  const key = `t.${quoteIdent(ref.key)}`
  const parts: string[] = []
  const params: string[] = []
  if (range.lo !== null) {
    params.push(range.lo)
    parts.push(`${key} > $${first + params.length - 1}::${keyType}`)
  }
  if (range.hi !== null) {
    params.push(range.hi)
    parts.push(`${key} <= $${first + params.length - 1}::${keyType}`)
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params }
}
