import type { VectorStorage } from '../../src/core/types.js'
import type { Queryable } from './driver.js'
import type { TableRef } from './table-ref.js'

export interface TableFacts {
  oid: number
  /** -1 when never analyzed. */
  reltuples: number
}

export interface ColumnFacts {
  name: string
  attnum: number
  /** format_type output, e.g. `vector(384)`, `bigint`. */
  type: string
  /** vector/halfvec columns only. */
  storage: VectorStorage | null
  /** Declared dimensions from the typmod; null when the column has none. */
  dimensions: number | null
}

export interface IndexFacts {
  name: string
  valid: boolean
  method: string
  attnums: number[]
  definition: string
}

export async function tableFacts(q: Queryable, ref: TableRef): Promise<TableFacts | null> {
  const r = await q.query<{ oid: number; reltuples: number }>(
    `SELECT c.oid::int8::float8 AS oid, c.reltuples::float8 AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [ref.schema, ref.table],
  )
  return r.rows[0] ?? null
}

export async function columnFacts(q: Queryable, oid: number): Promise<Map<string, ColumnFacts>> {
  const r = await q.query<{ name: string; attnum: number; type: string; typname: string; typmod: number }>(
    `SELECT a.attname AS name, a.attnum::int AS attnum, format_type(a.atttypid, a.atttypmod) AS type,
            t.typname::text AS typname, a.atttypmod AS typmod
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid],
  )
  return new Map(
    r.rows.map((row) => {
      const storage = row.typname === 'vector' || row.typname === 'halfvec' ? (row.typname as VectorStorage) : null
      // pgvector stores the dimension count itself as the typmod.
      const dimensions = storage !== null && row.typmod > 0 ? row.typmod : null
      return [row.name, { name: row.name, attnum: row.attnum, type: row.type, storage, dimensions }]
    }),
  )
}

export async function indexFacts(q: Queryable, oid: number): Promise<IndexFacts[]> {
  const r = await q.query<{ name: string; valid: boolean; method: string; attnums: string; definition: string }>(
    `SELECT ic.relname AS name, i.indisvalid AS valid, am.amname::text AS method, i.indkey::text AS attnums,
            pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = $1::int8::oid`,
    [oid],
  )
  return r.rows.map((row) => ({ ...row, attnums: row.attnums.split(' ').map(Number) }))
}
