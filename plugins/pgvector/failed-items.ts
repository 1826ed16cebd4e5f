/**
 * The failed-items record (`embedform.failed_items`): rows the encoder rejected, per collection
 * and generation, with the error, the attempts made and when the next one is due. Sync writes it;
 * status reads it.
 */
import type { FailedItem, RowKey } from '../../src/store/adapter.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import type { TableRef } from './table-ref.js'

const TABLE = 'embedform.failed_items'

async function exists(q: Queryable): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>(`SELECT to_regclass('${TABLE}') IS NOT NULL AS ok`)
  return r.rows[0]?.ok === true
}

export async function recordFailures(q: Queryable, collection: string, failed: FailedItem[], cleared: { generation: number; key: RowKey }[]): Promise<void> {
  if (failed.length === 0 && (cleared.length === 0 || !(await exists(q)))) return
  await q.query(`CREATE SCHEMA IF NOT EXISTS embedform`)
  await q.query(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (
       collection text NOT NULL, generation integer NOT NULL, k text NOT NULL, error text NOT NULL,
       attempts integer NOT NULL, first_failed_at timestamptz NOT NULL, last_failed_at timestamptz NOT NULL,
       retry_at timestamptz NOT NULL, PRIMARY KEY (collection, generation, k))`,
  )
  if (cleared.length > 0) {
    await q.query(`DELETE FROM ${TABLE} f USING unnest($2::int[], $3::text[]) AS d(g, k) WHERE f.collection = $1 AND f.generation = d.g AND f.k = d.k`, [
      collection,
      cleared.map((c) => c.generation),
      cleared.map((c) => String(c.key)),
    ])
  }
  if (failed.length > 0) {
    await q.query(
      `INSERT INTO ${TABLE} (collection, generation, k, error, attempts, first_failed_at, last_failed_at, retry_at)
       SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])
       ON CONFLICT (collection, generation, k) DO UPDATE SET error = EXCLUDED.error, attempts = EXCLUDED.attempts,
         first_failed_at = LEAST(${TABLE}.first_failed_at, EXCLUDED.first_failed_at), last_failed_at = EXCLUDED.last_failed_at, retry_at = EXCLUDED.retry_at`,
      [
        collection,
        failed.map((f) => f.generation),
        failed.map((f) => String(f.key)),
        failed.map((f) => f.error),
        failed.map((f) => f.attempts),
        failed.map((f) => f.firstFailedAt),
        failed.map((f) => f.lastFailedAt),
        failed.map((f) => f.retryAt),
      ],
    )
  }
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** Entries whose row still exists (a deleted row has nothing left to embed). */
export async function failedItems(q: Queryable, ref: TableRef, keyType: string): Promise<FailedItem[]> {
  if (!(await exists(q))) return []
  const r = await q.query<{ generation: number; key: string; error: string; attempts: number; first: string; last: string; retry: string }>(
    `SELECT f.generation, f.k AS key, f.error, f.attempts, ${iso('f.first_failed_at')} AS first, ${iso('f.last_failed_at')} AS last, ${iso('f.retry_at')} AS retry
       FROM ${TABLE} f JOIN ${ref.qualified} t ON t.${quoteIdent(ref.key)} = f.k::${keyType}
      WHERE f.collection = $1 ORDER BY f.generation DESC, f.first_failed_at, f.k`,
    [ref.collectionKey],
  )
  return r.rows.map((x) => ({ generation: x.generation, key: x.key, error: x.error, attempts: x.attempts, firstFailedAt: x.first, lastFailedAt: x.last, retryAt: x.retry }))
}

export async function forgetFailures(q: Queryable, collection: string, generation: number): Promise<void> {
  if (await exists(q)) await q.query(`DELETE FROM ${TABLE} WHERE collection = $1 AND generation = $2`, [collection, generation])
}
