// Cost of the computed change queue (LanceDB has no triggers): backfill write rate, one freshness
// scan, and one catch-up pass that finds 10 edited rows, on N rows of D-dim vectors. Prints JSON.
// Usage: npm run build && node bench/freshness.js [rows] [dims]; record /proc/loadavg with it.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@lancedb/lancedb'
import { plugin } from '../dist/index.js'

const rows = Number(process.argv[2] ?? 50_000)
const dims = Number(process.argv[3] ?? 384)
const dir = mkdtempSync(join(tmpdir(), 'lancedb-bench-'))
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)
try {
  const app = await connect(dir)
  await app.createTable('docs', Array.from({ length: rows }, (_, i) => ({ id: i + 1, body: `document ${i + 1} about topic ${i % 97}` })))
  const a = await plugin.create({ name: 'bench', kind: 'lancedb', path: dir }, { baseDir: dir })
  const c = { name: 'docs', store: 'bench', profile: 'bench', target: 'docs', key: 'id', text: { columns: ['body'], separator: '\n' }, vector: 'embedding' }
  const index = { metric: 'cosine', storage: 'vector', lancedb: { type: 'ivf_hnsw_sq', m: 20, efConstruction: 300 } }
  const snapshot = { name: 'bench', model: { source: 'builtin:bench' }, dimensions: dims, pooling: 'mean', normalize: true, maxTokens: 64, prefixes: { query: '', document: '' }, device: 'cpu', batchSize: 8, index }
  await a.createGeneration(c, { id: 1, profile: 'bench', fingerprint: 'bench', model: 'builtin:bench', dimensions: dims, storage: 'vector', index, normalized: true, profileSnapshot: snapshot })
  const vector = Float32Array.from({ length: dims }, (_, i) => Math.sin(i + 1))
  const before = loadavg()
  let t = performance.now()
  for await (const page of a.pending(c, 1, { batchSize: 1000, phase: 'backfill' })) await a.write(c, 1, page.map((r) => ({ key: r.key, token: r.token, vector })))
  const backfillSeconds = (performance.now() - t) / 1000
  t = performance.now()
  await a.freshness(c, 1)
  const freshnessMs = performance.now() - t
  await (await app.openTable('docs')).update({ where: 'id <= 10', values: { body: 'edited' } })
  t = performance.now()
  let queued = 0
  for await (const page of a.pending(c, 1, { batchSize: 1000, phase: 'catchup' })) queued += page.length
  const catchupMs = performance.now() - t
  await a.close()
  app.close()
  console.log(JSON.stringify({ rows, dims, backfillRowsPerSecond: Math.round(rows / backfillSeconds), freshnessMs: Math.round(freshnessMs), catchupMs: Math.round(catchupMs), catchupRows: queued, loadavg: { before, after: loadavg() } }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
