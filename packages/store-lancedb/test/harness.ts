import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type Connection, type Table } from '@lancedb/lancedb'
import type * as Arrow from 'apache-arrow'
import type { Collection, IndexSettings, StoreAdapter } from 'embedform/plugin'
import type { Harness, SeedRow } from 'embedform/testing'
import { plugin } from '../src/index.js'
import { STATE_TABLE } from '../src/state.js'

const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow

export const lanceIndex: IndexSettings = { metric: 'cosine', storage: 'vector', lancedb: { type: 'ivf_hnsw_sq', m: 20, efConstruction: 300 } }
const rebuilt: IndexSettings = { metric: 'cosine', storage: 'vector', lancedb: { type: 'ivf_flat', m: 20, efConstruction: 300, partitions: 2 } }

let counter = 0

/**
 * A fresh database directory per test. The "application" writes through its own LanceDB
 * connection, as a separate process would: plain add / update / delete on the table, knowing
 * nothing of embedform's columns.
 */
export async function lanceHarness(): Promise<Harness & { dir: string; app: Connection }> {
  const dir = mkdtempSync(join(tmpdir(), 'embedform-lance-'))
  const app = await connect(dir, { readConsistencyInterval: 0 })
  const name = `docs_${++counter}`
  const collection: Collection = { name: 'docs', store: 'lance', profile: 'conformance', target: name, key: 'id', text: { columns: ['body'], separator: '\n' }, vector: 'embedding' }
  const store = plugin.parseStore({ name: 'lance', values: { path: dir }, baseDir: dir, fromEnv: () => false })
  if (Array.isArray(store)) throw new Error(JSON.stringify(store))
  const adapter = await plugin.create(store, { baseDir: dir })
  let table: Table | undefined
  const ensure = async (dims?: number): Promise<Table> => {
    if (table) return table
    const fields: Arrow.Field[] = [new arrow.Field('id', new arrow.Int64(), false), new arrow.Field('body', new arrow.Utf8(), true)]
    if (dims) fields.push(new arrow.Field('embedding', new arrow.FixedSizeList(dims, new arrow.Field('item', new arrow.Float32(), true)), true))
    table = await app.createEmptyTable(name, new arrow.Schema(fields))
    return table
  }
  const add = async (rows: (SeedRow & { vector?: Float32Array })[]) => {
    if (rows.length === 0) return
    await (await ensure()).add(rows.map((r) => ({ id: r.key, body: r.text, ...(r.vector ? { embedding: Array.from(r.vector) } : {}) })))
  }
  const others: StoreAdapter[] = []
  return {
    dir,
    app,
    adapter,
    collection,
    index: { settings: lanceIndex, rebuilt },
    seed: add,
    insert: (row) => add([row]),
    updateText: async (key, text) => {
      await (await ensure()).update({ where: `id = ${key}`, values: { body: text } })
    },
    remove: async (key) => {
      await (await ensure()).delete(`id = ${key}`)
    },
    seedAdopted: async (rows, dims) => {
      await ensure(dims)
      await add(rows)
    },
    snapshot: async () => {
      const names = await app.tableNames()
      const version = async (n: string) => (names.includes(n) ? (await app.openTable(n)).version() : null)
      return JSON.stringify({ names, table: await version(name), state: await version(STATE_TABLE) })
    },
    reopen: async () => {
      const other = await plugin.create(store, { baseDir: dir })
      others.push(other)
      return other
    },
    cleanup: async () => {
      await adapter.close()
      app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
