/**
 * Preflight for PostgreSQL + pgvector (and PGlite): everything apply needs from the table, read
 * from the catalog before any lock or DDL, so a bad key, a misspelt text column or a missing
 * privilege is an input error at plan time instead of a half-done migration. Read-only: every
 * statement here is a SELECT.
 */
import type { Collection } from '../../src/core/types.js'
import { closest } from '../../src/config/suggest.js'
import type { PreflightDesired, PreflightProblem } from '../../src/store/adapter.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { resolveTable, type TableRef } from './table-ref.js'

/** Above this many rows (statistics), checks that would scan the whole table are skipped at plan time. */
const SCAN_BELOW_ROWS = 100_000
const PRIVILEGES_DOC = 'docs/privileges.md lists what each command needs'

interface TableRow {
  oid: number
  reltuples: number
  owner: string
  owns: boolean
  can_select: boolean
  can_update: boolean
  can_trigger: boolean
}

interface ColumnRow {
  name: string
  attnum: number
  type: string
  typname: string
  notnull: boolean
}

interface UniqueIndexRow {
  name: string
  primary: boolean
  valid: boolean
  partial: boolean
  expression: boolean
  /** Key columns only (INCLUDE columns excluded). */
  columns: string[]
}

interface DependentRow {
  schema: string
  name: string
  kind: 'v' | 'm'
  owner: string
  owns: boolean
}

interface SchemaRow {
  exists: boolean
  can_create_schema: boolean
  can_use: boolean
  can_create: boolean
}

interface Check {
  ref: TableRef
  c: Collection
  desired: PreflightDesired
  problems: PreflightProblem[]
  user: string
}

function tableName(ref: TableRef): string {
  return `${ref.schema}.${ref.table}`
}

function columnObject(ref: TableRef, column: string): string {
  return `column ${tableName(ref)}.${column}`
}

function problem(check: Check, p: Omit<PreflightProblem, 'severity'> & { severity?: PreflightProblem['severity'] }): void {
  check.problems.push({ severity: 'error', ...p })
}

async function readTable(q: Queryable, ref: TableRef): Promise<TableRow | undefined> {
  const r = await q.query<TableRow>(
    `SELECT c.oid::int8::float8 AS oid, c.reltuples::float8 AS reltuples, c.relowner::regrole::text AS owner,
            pg_has_role(c.relowner, 'USAGE') AS owns,
            has_table_privilege(c.oid, 'SELECT') AS can_select,
            has_table_privilege(c.oid, 'UPDATE') AS can_update,
            has_table_privilege(c.oid, 'TRIGGER') AS can_trigger
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [ref.schema, ref.table],
  )
  return r.rows[0]
}

async function readColumns(q: Queryable, oid: number): Promise<Map<string, ColumnRow>> {
  const r = await q.query<ColumnRow>(
    `SELECT a.attname::text AS name, a.attnum::int AS attnum, format_type(a.atttypid, a.atttypmod) AS type,
            t.typname::text AS typname, a.attnotnull AS notnull
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  )
  return new Map(r.rows.map((row) => [row.name, row]))
}

async function readUniqueIndexes(q: Queryable, oid: number): Promise<UniqueIndexRow[]> {
  const r = await q.query<UniqueIndexRow>(
    `SELECT ic.relname::text AS name, i.indisprimary AS primary, i.indisvalid AS valid,
            i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS expression,
            ARRAY(SELECT a.attname::text
                    FROM generate_series(0, i.indnkeyatts - 1) AS k(n)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n]
                   ORDER BY k.n) AS columns
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = $1::int8::oid AND i.indisunique
      ORDER BY i.indisprimary DESC, ic.relname`,
    [oid],
  )
  return r.rows
}

/** Views and materialized views that read the column, directly or through other views. */
async function readDependents(q: Queryable, oid: number, attnum: number): Promise<DependentRow[]> {
  const r = await q.query<DependentRow>(
    `WITH RECURSIVE deps(oid) AS (
       SELECT rw.ev_class
         FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = $1::int8::oid AND d.refobjsubid = $2::int AND rw.ev_class <> $1::int8::oid
       UNION
       SELECT rw.ev_class
         FROM deps JOIN pg_depend d ON d.refobjid = deps.oid
         JOIN pg_rewrite rw ON rw.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND rw.ev_class <> deps.oid
     )
     SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
            c.relowner::regrole::text AS owner, pg_has_role(c.relowner, 'USAGE') AS owns
       FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('v', 'm')
      ORDER BY n.nspname, c.relname`,
    [oid, attnum],
  )
  return r.rows
}

async function readStateSchema(q: Queryable): Promise<SchemaRow> {
  const r = await q.query<SchemaRow>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'embedform') AS exists,
            has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
            CASE WHEN to_regnamespace('embedform') IS NULL THEN false ELSE has_schema_privilege('embedform', 'USAGE') END AS can_use,
            CASE WHEN to_regnamespace('embedform') IS NULL THEN false ELSE has_schema_privilege('embedform', 'CREATE') END AS can_create`,
  )
  return r.rows[0]!
}

/** embedform's own tables the role cannot read and write (each needs SELECT, INSERT, UPDATE, DELETE). */
async function readStateTablesDenied(q: Queryable): Promise<string[]> {
  const r = await q.query<{ name: string }>(
    `SELECT c.relname::text AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'embedform' AND c.relkind IN ('r', 'p')
        AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
                 AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'))
      ORDER BY c.relname`,
  )
  return r.rows.map((row) => row.name)
}

function checkExtension(check: Check, types: { vector: boolean; halfvec: boolean }): void {
  if (!types.vector) {
    problem(check, {
      code: 'E_PREFLIGHT_EXTENSION',
      message: 'the pgvector extension is not installed in this database (type `vector` is unknown)',
      object: `database of table ${tableName(check.ref)}`,
      hint: 'run `CREATE EXTENSION vector;` as a role allowed to (a superuser, or the database owner on PostgreSQL 13+)',
    })
  } else if (check.desired.storage === 'halfvec' && !types.halfvec) {
    problem(check, {
      code: 'E_PREFLIGHT_EXTENSION',
      message: 'the installed pgvector has no `halfvec` type (it needs pgvector 0.7 or later)',
      object: `database of table ${tableName(check.ref)}`,
      hint: 'upgrade with `ALTER EXTENSION vector UPDATE;`, or set `index.storage: vector` in the profile',
    })
  }
}

async function checkKey(q: Queryable, check: Check, table: TableRow, columns: Map<string, ColumnRow>): Promise<void> {
  const { ref, c } = check
  const key = columns.get(ref.key)
  if (!key) {
    const similar = closest(ref.key, columns.keys())
    problem(check, {
      code: 'E_PREFLIGHT_KEY_MISSING',
      message: `key column "${ref.key}" does not exist in table ${tableName(ref)}`,
      object: columnObject(ref, ref.key),
      hint: similar
        ? `did you mean "${similar}"? Column names are case-sensitive: set \`key: ${similar}\` in collections.${c.name}`
        : `set collections.${c.name}.key to the table's unique, NOT NULL key column (columns: ${[...columns.keys()].join(', ')})`,
    })
    return
  }
  const indexes = (await readUniqueIndexes(q, table.oid)).filter((i) => i.valid && !i.partial && !i.expression)
  const exact = indexes.find((i) => i.columns.length === 1 && i.columns[0] === ref.key)
  if (!exact) {
    const composite = indexes.find((i) => i.columns.includes(ref.key))
    if (composite) {
      problem(check, {
        code: 'E_PREFLIGHT_COMPOSITE_KEY',
        message: `key column "${ref.key}" is only part of the ${composite.primary ? 'primary key' : 'unique index'} ${composite.name} (${composite.columns.join(', ')}): embedform needs one column whose values are unique on their own, and composite keys are not supported`,
        object: columnObject(ref, ref.key),
        hint: `add a single-column unique key, e.g. \`ALTER TABLE ${ref.qualified} ADD COLUMN embedform_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE;\`, and set \`key: embedform_id\` in collections.${c.name}`,
      })
    } else {
      const duplicate = table.can_select ? await duplicateExample(q, ref, table) : undefined
      problem(check, {
        code: 'E_PREFLIGHT_KEY_NOT_UNIQUE',
        message: `key column "${ref.key}" of table ${tableName(ref)} has no primary key or unique index on exactly it${duplicate ? `, and value ${duplicate.key} appears ${duplicate.n} times` : ''}: rows sharing a key would get each other's vectors`,
        object: columnObject(ref, ref.key),
        hint: duplicate
          ? `point collections.${c.name}.key at a unique column, or remove the duplicates and run \`CREATE UNIQUE INDEX ON ${ref.qualified} (${quoteIdent(ref.key)});\``
          : `run \`CREATE UNIQUE INDEX CONCURRENTLY ON ${ref.qualified} (${quoteIdent(ref.key)});\`, or point collections.${c.name}.key at a unique column`,
      })
    }
  }
  // Without SELECT the data cannot be looked at (checkPrivileges reports that); without an index
  // on the key, looking for NULLs scans the table, which only small tables can afford at plan time.
  if (!key.notnull && table.can_select && (exact || table.reltuples < SCAN_BELOW_ROWS)) {
    const nulls = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${ref.qualified} WHERE ${quoteIdent(ref.key)} IS NULL LIMIT 1001) s`)
    const n = nulls.rows[0]?.n ?? 0
    problem(check, {
      code: 'E_PREFLIGHT_KEY_NULL',
      severity: n > 0 ? 'error' : 'warning',
      message:
        n > 0
          ? `${n > 1000 ? 'more than 1,000' : n} row(s) of table ${tableName(ref)} have a NULL key "${ref.key}": they could never be embedded or found again`
          : `key column "${ref.key}" allows NULL: a row inserted with a NULL key would never get a vector`,
      object: columnObject(ref, ref.key),
      hint:
        n > 0
          ? `give those rows a key (\`SELECT * FROM ${ref.qualified} WHERE ${quoteIdent(ref.key)} IS NULL\` lists them), then \`ALTER TABLE ${ref.qualified} ALTER COLUMN ${quoteIdent(ref.key)} SET NOT NULL;\``
          : `run \`ALTER TABLE ${ref.qualified} ALTER COLUMN ${quoteIdent(ref.key)} SET NOT NULL;\``,
    })
  }
}

async function duplicateExample(q: Queryable, ref: TableRef, table: TableRow): Promise<{ key: string; n: number } | undefined> {
  if (table.reltuples >= SCAN_BELOW_ROWS) return undefined
  const r = await q.query<{ key: string; n: number }>(
    `SELECT ${quoteIdent(ref.key)}::text AS key, count(*)::int AS n FROM ${ref.qualified}
      WHERE ${quoteIdent(ref.key)} IS NOT NULL GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 1`,
  )
  return r.rows[0]
}

function checkText(check: Check, columns: Map<string, ColumnRow>): void {
  const { ref, c } = check
  const template = 'template' in ref.text
  for (const name of ref.textColumns) {
    if (columns.has(name)) continue
    const sameLetters = [...columns.keys()].find((col) => col.toLowerCase() === name.toLowerCase())
    const similar = sameLetters ?? closest(name, columns.keys())
    const written = template ? `{${name}}` : `"${name}"`
    problem(check, {
      code: 'E_PREFLIGHT_TEXT_COLUMN',
      message: `text ${template ? 'template field' : 'column'} ${written} names a column that table ${tableName(ref)} does not have`,
      object: columnObject(ref, name),
      hint: similar
        ? `did you mean "${similar}"? Column names are case-sensitive: write ${template ? `{${similar}}` : similar} in collections.${c.name}.text`
        : `use one of the table's columns in collections.${c.name}.text: ${[...columns.keys()].join(', ')}`,
    })
  }
}

function checkVectorColumn(check: Check, columns: Map<string, ColumnRow>): ColumnRow | undefined {
  const { ref, c } = check
  const column = columns.get(ref.vector)
  if (!column) return undefined
  if (column.typname === 'vector' || column.typname === 'halfvec') return column
  problem(check, {
    code: 'E_PREFLIGHT_VECTOR_TYPE',
    message: `vector column "${ref.vector}" of table ${tableName(ref)} is ${column.type}, not a pgvector vector or halfvec`,
    object: columnObject(ref, ref.vector),
    hint: `set collections.${c.name}.vector to the pgvector column the application reads, or to a new column name (embedform creates it)`,
  })
  return undefined
}

async function checkDependents(q: Queryable, check: Check, table: TableRow, column: ColumnRow): Promise<void> {
  const { ref } = check
  for (const d of await readDependents(q, table.oid, column.attnum)) {
    const name = `${d.schema}.${d.name}`
    if (d.kind === 'm') {
      problem(check, {
        code: 'E_PREFLIGHT_MATERIALIZED_VIEW',
        severity: check.desired.cutsOver ? 'error' : 'warning',
        message: `materialized view ${name} reads column "${ref.vector}": it stores rows of the old generation's vectors and stays bound to the old column, so after a cutover it would keep serving them, and gc could not drop that column`,
        object: `materialized view ${name}`,
        hint: `keep its definition (\`SELECT pg_get_viewdef('${name}'::regclass)\`), \`DROP MATERIALIZED VIEW ${quoteIdent(d.schema)}.${quoteIdent(d.name)};\`, apply, then create it again`,
      })
      continue
    }
    if (!check.desired.cutsOver) continue
    if (!d.owns) {
      problem(check, {
        code: 'E_PREFLIGHT_PRIVILEGE',
        message: `view ${name} reads column "${ref.vector}" and must be recreated by the cutover, but it belongs to ${d.owner}, not to ${check.user}`,
        object: `view ${name}`,
        hint: `run embedform as ${d.owner}, or \`GRANT ${quoteIdent(d.owner)} TO ${quoteIdent(check.user)};\` (${PRIVILEGES_DOC})`,
      })
    } else {
      problem(check, {
        code: 'W_PREFLIGHT_VIEW',
        severity: 'warning',
        message: `view ${name} reads column "${ref.vector}": the cutover drops and recreates it in the same transaction, with its options and grants`,
        object: `view ${name}`,
        hint: 'nothing to do; readers of the view see the new generation after the cutover',
      })
    }
  }
}

async function checkPrivileges(q: Queryable, check: Check, table: TableRow): Promise<void> {
  const { ref, user } = check
  const where = tableName(ref)
  if (!table.can_select || !table.can_update) {
    const missing = [table.can_select ? null : 'SELECT', table.can_update ? null : 'UPDATE'].filter(Boolean).join(', ')
    problem(check, {
      code: 'E_PREFLIGHT_PRIVILEGE',
      message: `role ${user} lacks ${missing} on table ${where}: the backfill reads the text and writes the vectors`,
      object: `table ${where}`,
      hint: `\`GRANT SELECT, UPDATE ON ${ref.qualified} TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
    })
  }
  if (!table.owns) {
    problem(check, {
      code: 'E_PREFLIGHT_PRIVILEGE',
      message: `role ${user} does not own table ${where} (owner: ${table.owner}): adding the generation's column, building its index and the cutover's column rename all need ownership`,
      object: `table ${where}`,
      hint: `run embedform as ${table.owner}, or \`GRANT ${quoteIdent(table.owner)} TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
    })
  } else if (!table.can_trigger) {
    problem(check, {
      code: 'E_PREFLIGHT_PRIVILEGE',
      message: `role ${user} lacks TRIGGER on table ${where}: embedform records text changes with a trigger`,
      object: `table ${where}`,
      hint: `\`GRANT TRIGGER ON ${ref.qualified} TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
    })
  }
  const schema = await readStateSchema(q)
  if (!schema.exists) {
    if (!schema.can_create_schema) {
      problem(check, {
        code: 'E_PREFLIGHT_PRIVILEGE',
        message: `role ${user} cannot create the schema "embedform" (no CREATE on this database), where embedform keeps its generations, journal and locks`,
        object: 'schema embedform',
        hint: `\`CREATE SCHEMA embedform AUTHORIZATION ${quoteIdent(user)};\` as the database owner, or \`GRANT CREATE ON DATABASE <db> TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
      })
    }
    return
  }
  if (!schema.can_use || !schema.can_create) {
    problem(check, {
      code: 'E_PREFLIGHT_PRIVILEGE',
      message: `role ${user} lacks ${[schema.can_use ? null : 'USAGE', schema.can_create ? null : 'CREATE'].filter(Boolean).join(' and ')} on schema "embedform", where embedform keeps its state and trigger functions`,
      object: 'schema embedform',
      hint: `\`GRANT USAGE, CREATE ON SCHEMA embedform TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
    })
    return
  }
  const denied = await readStateTablesDenied(q)
  if (denied.length > 0) {
    problem(check, {
      code: 'E_PREFLIGHT_PRIVILEGE',
      message: `role ${user} cannot read and write embedform's own table(s) ${denied.map((t) => `embedform.${t}`).join(', ')}`,
      object: 'schema embedform',
      hint: `\`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA embedform TO ${quoteIdent(user)};\` (${PRIVILEGES_DOC})`,
    })
  }
}

export async function preflight(q: Queryable, c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]> {
  const ref = resolveTable(c)
  const who = await q.query<{ user: string; vector: boolean; halfvec: boolean }>(
    `SELECT current_user::text AS user, to_regtype('vector') IS NOT NULL AS vector, to_regtype('halfvec') IS NOT NULL AS halfvec`,
  )
  const facts = who.rows[0]!
  const check: Check = { ref, c, desired, problems: [], user: facts.user }
  checkExtension(check, facts)
  const table = await readTable(q, ref)
  if (!table) {
    problem(check, {
      code: 'E_COLLECTION_MISSING',
      message: `table ${tableName(ref)} does not exist`,
      object: `table ${tableName(ref)}`,
      hint: `create the table first, or fix collections.${c.name}.target`,
    })
    return check.problems
  }
  const columns = await readColumns(q, table.oid)
  await checkKey(q, check, table, columns)
  checkText(check, columns)
  const vector = checkVectorColumn(check, columns)
  if (vector) await checkDependents(q, check, table, vector)
  if (desired.createsObjects || desired.cutsOver) await checkPrivileges(q, check, table)
  return check.problems
}
