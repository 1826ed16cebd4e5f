import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'

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

/** CREATE VIEW from the captured definition, with its options and plain grants. */
export async function recreateView(tx: Queryable, v: DependentView): Promise<void> {
  const name = `${quoteIdent(v.schema)}.${quoteIdent(v.name)}`
  const withClause = v.options?.length ? ` WITH (${v.options.join(', ')})` : ''
  await tx.query(`CREATE VIEW ${name}${withClause} AS ${v.definition}`)
  for (const grant of v.grants) {
    await tx.query(`GRANT ${grant.privilege} ON ${name} TO ${grant.grantee === null ? 'PUBLIC' : quoteIdent(grant.grantee)}`)
  }
}
