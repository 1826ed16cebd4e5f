import type { IndexSettings } from '../../src/core/types.js'
import { conformanceSuite } from '../../src/testing/index.js'
import { MemoryAdapter } from '../helpers/memory-adapter.js'
import { hnswCosine } from './generation-spec.js'

let counter = 0

const rebuilt: IndexSettings = { ...hnswCosine, pgvector: { type: 'ivfflat', m: 16, efConstruction: 64, lists: 4 } }

/** The engine's unit-test double proves itself with the same kit as the real stores. */
conformanceSuite('memory test double', async () => {
  const adapter = new MemoryAdapter()
  const table = `public.conf_${++counter}`
  const collection = { name: 'docs', store: 'mem', profile: 'conformance', target: table, key: 'id', text: { columns: ['body'], separator: '\n' }, vector: 'embedding' }
  return {
    adapter,
    collection,
    index: { settings: hnswCosine, rebuilt },
    seed: async (rows) => adapter.seed(table, rows),
    insert: async (row) => adapter.upsertRow(table, row.key, row.text),
    updateText: async (key, text) => adapter.upsertRow(table, key, text),
    remove: async (key) => adapter.removeRow(table, key),
    seedAdopted: async (rows) => {
      adapter.seed(table, rows)
      const byText = new Map(rows.map((r) => [r.text, r.vector]))
      adapter.adoptLive(table, { dimensions: rows[0]!.vector.length, vector: (t) => byText.get(t)! })
    },
    snapshot: async () => adapter.dump(table),
    reopen: async () => adapter.reopen(),
    cleanup: () => adapter.close(),
  }
})
