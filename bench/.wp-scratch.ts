import pg from 'pg'
import { plugin } from '../plugins/pgvector/index.js'
import { testSpec } from '../tests/conformance/generation-spec.js'
import { createTestDatabase } from '../tests/helpers/pg.js'
import { spamPassages } from '../tests/helpers/spam-corpus.js'
const N = Number(process.env.N ?? 20000)
const D = 384
const db = await createTestDatabase()
const passages = spamPassages(8000)
await db.sql(`CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)`)
for (let s = 0; s < N; s += 5000) {
  const ids = [], ts = [], bs = []
  for (let i = s; i < Math.min(N, s + 5000); i++) { const p = passages[i % 8000]!; ids.push(i + 1); ts.push(p.title); bs.push(p.body + ' ' + i) }
  await db.sql(`INSERT INTO docs SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])`, [ids, ts, bs])
}
await db.sql(`ALTER TABLE docs ADD COLUMN embedding vector(${D})`)
await db.sql(`UPDATE docs SET embedding = (SELECT array_agg(random() - 0.5)::vector(${D}) FROM generate_series(1, ${D}) WHERE id > 0)`)
await db.sql(`VACUUM FULL docs`)
await db.sql(`CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops)`)
await db.sql(`ANALYZE docs`)
const c = { name: 'docs', store: 'main', profile: 'p', target: 'docs', key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding' } as any
const a = await plugin.create({ name: 'main', kind: 'pgvector', url: db.url }, { baseDir: '/tmp' })
const timing: Record<string, number> = {}
let explained = 0
const drv = (a as any).driver
const wrap = (q: any) => {
  const oq = q.query.bind(q), oc = q.copyIn.bind(q)
  q.query = async (sql: string, p?: unknown[]) => { if (process.env.EXPLAIN && sql.trim().startsWith("WITH u") && explained++ % 7 === 3) { const r = await oq('EXPLAIN (ANALYZE, BUFFERS) ' + sql, p); console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n')) } const t = performance.now(); try { return await oq(sql, p) } finally { const k = sql.trim().slice(0, 40); timing[k] = (timing[k] ?? 0) + performance.now() - t } }
  q.copyIn = async (...args: any[]) => { const t = performance.now(); try { return await oc(...args) } finally { timing['COPY'] = (timing['COPY'] ?? 0) + performance.now() - t } }
  return q
}
const otx = drv.transaction.bind(drv)
drv.transaction = (fn: any) => otx((tx: any) => fn(wrap(tx)))
await a.createGeneration(c, testSpec(2, D, { ...testSpec(2, D).index, pgvector: { type: 'none', m: 16, efConstruction: 64 } }))
const v = new Float32Array(D).map((_, i) => Math.sin(i))
let rows = 0, readMs = 0, writeMs = 0
let t0 = performance.now()
const it = a.pending(c, 2, { batchSize: 1000, phase: 'backfill' })[Symbol.asyncIterator]()
for (;;) {
  const t = performance.now()
  const n = await it.next()
  readMs += performance.now() - t
  if (n.done) break
  const w = performance.now()
  await a.write(c, 2, n.value.map((r: any) => ({ key: r.key, token: r.token, vector: v })))
  writeMs += performance.now() - w
  rows += n.value.length
}
const [s] = await db.sql<any>(`SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname='docs'`)
console.log(JSON.stringify(Object.fromEntries(Object.entries(timing).map(([k,v])=>[k,Math.round(v)])),null,1)); console.log(JSON.stringify({ rows, readMs: Math.round(readMs), writeMs: Math.round(writeMs), writeRowsPerSec: Math.round(rows * 1000 / writeMs), totalRowsPerSec: Math.round(rows * 1000 / (performance.now() - t0)), stats: s }))
await a.close(); await db.drop()
