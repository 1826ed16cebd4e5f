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

export interface DependentView {
  schema: string
  name: string
  definition: string
  options: string[] | null
  grants: { grantee: string | null; privilege: string }[]
  depth: number
}

/**
 * Views reading the given columns, plus the views built on those, deepest last. Views bind to
 * a column's attnum, not its name, so a rename swap must drop and recreate all of them.
 */
export async function dependentViews(q: Queryable, tableOid: number, attnums: number[]): Promise<DependentView[]> {
  const found = new Map<number, DependentView>()
  let frontier: { oid: number; attnums: number[] | null }[] = [{ oid: tableOid, attnums }]
  for (let depth = 1; frontier.length > 0; depth++) {
    const next: { oid: number; attnums: number[] | null }[] = []
    for (const rel of frontier) {
      const r = await q.query<{ oid: number; schema: string; name: string; definition: string; options: string[] | null }>(
        `SELECT DISTINCT v.oid::int8::float8 AS oid, n.nspname AS schema, v.relname AS name,
                pg_get_viewdef(v.oid) AS definition, v.reloptions AS options
           FROM pg_depend d
           JOIN pg_rewrite rw ON rw.oid = d.objid
           JOIN pg_class v ON v.oid = rw.ev_class
           JOIN pg_namespace n ON n.oid = v.relnamespace
          WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
            AND d.refobjid = $1::int8::oid AND v.oid <> $1::int8::oid AND v.relkind = 'v'
            AND ($2::int[] IS NULL OR d.refobjsubid = ANY($2::int[]))`,
        [rel.oid, rel.attnums],
      )
      for (const row of r.rows) {
        const grants = await q.query<{ grantee: string | null; privilege: string }>(
          `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE a.grantee::regrole::text END AS grantee, a.privilege_type AS privilege
             FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = $1::int8::oid AND a.grantee <> c.relowner`,
          [row.oid],
        )
        const prior = found.get(row.oid)
        found.set(row.oid, { ...row, grants: grants.rows, depth: Math.max(depth, prior?.depth ?? 0) })
        next.push({ oid: row.oid, attnums: null })
      }
    }
    frontier = next
  }
  return [...found.values()].sort((a, b) => a.depth - b.depth)
}
