import type { Collection } from '../../src/core/types.js'
import type { StoreAdapter } from '../../src/store/adapter.js'
import type { Harness, SeedRow } from '../../src/testing/index.js'
import { hnswCosine } from './generation-spec.js'

type Run = (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>

let counter = 0

/**
 * The SQL side of a pgvector harness, shared by the native and PGlite runners: a fresh table
 * per test with a bigint key and one text column, driven through `run`.
 */
export async function sqlHarness(run: Run, adapter: StoreAdapter, closeAdapter: () => Promise<void>, reopen?: () => Promise<StoreAdapter>): Promise<Harness> {
  // Qualified: the test role is named `embedform`, so `$user` in search_path resolves to the
  // embedform state schema once it exists.
  const name = `docs_${process.pid}_${++counter}`
  const table = `public.${name}`
  await run(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body text)`)
  const collection: Collection = {
    name: 'docs',
    store: 'test',
    profile: 'conformance',
    target: name,
    key: 'id',
    text: { columns: ['body'], separator: '\n' },
    vector: 'embedding',
  }
  const insertRows = async (rows: SeedRow[]) => {
    if (rows.length === 0) return
    await run(`INSERT INTO ${table} (id, body) SELECT * FROM unnest($1::bigint[], $2::text[])`, [rows.map((r) => r.key), rows.map((r) => r.text)])
  }
  return {
    adapter,
    collection,
    ...(reopen ? { reopen } : {}),
    // Rows, columns, indexes and embedform's own records for the table: what read-only must leave alone.
    snapshot: async () => {
      const parts = [
        await run(`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) AS h FROM ${table} t`),
        await run(`SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY column_name) AS h FROM information_schema.columns WHERE table_name = $1`, [name]),
        await run(`SELECT string_agg(indexname || indexdef, ',' ORDER BY indexname) AS h FROM pg_indexes WHERE tablename = $1`, [name]),
        await run(`SELECT md5(coalesce(string_agg(g::text, '|' ORDER BY g::text), '')) AS h FROM embedform.generations g WHERE collection_key LIKE $1`, [`${table}.%`]).catch(() => ({ rows: [{ h: 'no state yet' }] })),
      ]
      return JSON.stringify(parts.map((p) => p.rows[0]?.h ?? null))
    },
    index: { settings: hnswCosine, rebuilt: { ...hnswCosine, pgvector: { type: 'ivfflat', m: 16, efConstruction: 64, lists: 2 } } },
    seed: insertRows,
    insert: (row) => insertRows([row]),
    updateText: async (key, text) => {
      await run(`UPDATE ${table} SET body = $2 WHERE id = $1`, [key, text])
    },
    remove: async (key) => {
      await run(`DELETE FROM ${table} WHERE id = $1`, [key])
    },
    seedAdopted: async (rows, dimensions) => {
      await run(`ALTER TABLE ${table} ADD COLUMN embedding vector(${dimensions})`)
      await run(`INSERT INTO ${table} (id, body, embedding) SELECT u.id, u.body, u.v::vector FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, body, v)`, [
        rows.map((r) => r.key),
        rows.map((r) => r.text),
        rows.map((r) => `[${Array.from(r.vector).join(',')}]`),
      ])
    },
    cleanup: async () => {
      await closeAdapter()
      await run(`DROP TABLE IF EXISTS ${table} CASCADE`)
      await run(`DELETE FROM embedform.generations WHERE collection_key LIKE $1`, [`${table}.%`]).catch(() => undefined)
    },
  }
}
