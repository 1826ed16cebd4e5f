/**
 * Migration cost on a table shaped like a real one (issue #17): a live 384-d column WITH an HNSW
 * index, a retained generation with its own HNSW index, ~1 kB of real text per row. For each size:
 *
 * - write path: the adapter's own write (binary COPY + one UPDATE, apply's own batches) of
 *   384-d vectors into a new generation, rows/s; the share of heap-only updates; the live index's
 *   size before and after (a write that is not heap-only re-enters it); reader latency (kNN on the
 *   live column) before and during the writes;
 * - backfill: the engine's backfill with builtin:bert-tiny, rows/s ÷ the encoder's texts/s alone
 *   (the mean of a run just before and one just after the backfill);
 * - plan: the measured-pipeline estimate of the backfill against the actual backfill time.
 *
 *   npx vite-node bench/migration.ts                          (sizes 10000,50000,200000)
 *   BENCH_SIZES=10000 npx vite-node bench/migration.ts
 *   BENCH_FILLFACTOR=90 npx vite-node bench/migration.ts      (pages with free space, as churn leaves them)
 *   BENCH_THREADS=1 npx vite-node bench/migration.ts          (the encoder leaves a core to the database,
 *                                                             as a GPU encoder or a remote database would)
 * Prints one JSON object. Needs scripts/setup-postgres.sh.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { applyPlan } from '../src/apply/index.js'
import { engineContextFor } from '../src/cli/engine-context.js'
import { loadConfig } from '../src/config/index.js'
import type { ProgressEvent } from '../src/core/events.js'
import type { Collection } from '../src/core/types.js'
import { openEncoder } from '../src/encoder/index.js'
import { makePlan } from '../src/plan/index.js'
import type { StoreAdapter } from '../src/store/adapter.js'
import { batchRows } from '../src/store/batch-rows.js'
import { plugin } from '../plugins/pgvector/index.js'
import { testSpec } from '../tests/conformance/generation-spec.js'
import { PROFILES, writeProject } from '../tests/helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../tests/helpers/pg.js'
import { passageText, spamPassages } from '../tests/helpers/spam-corpus.js'

const SIZES = (process.env.BENCH_SIZES ?? '10000,50000,200000').split(',').map(Number)
const FILLFACTOR = Number(process.env.BENCH_FILLFACTOR ?? 100)
/** The encoder's intra-op threads (the profile's `threads`); unset: every core. */
const THREADS = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined
const LIVE_DIMS = 384
/** bert-tiny's dimensions (the backfill's profile below). */
const BACKFILL_DIMS = 32
const CORPUS = 8000

PROFILES['bert-tiny'] = `name: bert-tiny
model: { source: "builtin:bert-tiny" }
dimensions: 32
pooling: mean
normalize: true
max_tokens: 256
batch_size: 64
${THREADS ? `threads: ${THREADS}\n` : ''}index:
  metric: cosine
  pgvector: { type: none }
`

const collection: Collection = { name: 'docs', store: 'main', profile: 'bert-tiny', target: 'docs', key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding' }

function randomVector(dims: number, seed: number): Float32Array {
  const v = new Float32Array(dims)
  let s = seed || 1
  for (let i = 0; i < dims; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    v[i] = s / 0x7fffffff - 0.5
  }
  return v
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2)) : null
}

/** `n` rows of real passages; past the corpus, the same passages again with a distinguishing suffix. */
async function seed(db: TestDatabase, n: number): Promise<void> {
  const passages = spamPassages(CORPUS)
  await db.sql(`CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)`)
  for (let start = 0; start < n; start += 5000) {
    const ids: number[] = []
    const titles: string[] = []
    const bodies: string[] = []
    for (let i = start; i < Math.min(n, start + 5000); i++) {
      const p = passages[i % passages.length]!
      ids.push(i + 1)
      titles.push(p.title)
      bodies.push(i < passages.length ? p.body : `${p.body} (copy ${Math.floor(i / passages.length)})`)
    }
    await db.sql(`INSERT INTO docs (id, title, body) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])`, [ids, titles, bodies])
  }
  // The application's live vectors and their HNSW index, as every real migration starts.
  await db.sql(`ALTER TABLE docs ADD COLUMN embedding vector(${LIVE_DIMS})`)
  await db.sql(`UPDATE docs SET embedding = (SELECT array_agg(random() - 0.5)::vector(${LIVE_DIMS}) FROM generate_series(1, ${LIVE_DIMS}) WHERE id > 0)`)
  // VACUUM FULL packs every page (the worst case for heap-only writes); BENCH_FILLFACTOR leaves
  // the free space a table with ordinary churn or a fillfactor has.
  if (FILLFACTOR < 100) await db.sql(`ALTER TABLE docs SET (fillfactor = ${FILLFACTOR})`)
  await db.sql(`VACUUM FULL docs`)
  await db.sql(`SET maintenance_work_mem = '2GB'`)
  const client = await db.pool.connect()
  try {
    await client.query(`SET maintenance_work_mem = '2GB'`)
    await client.query(`CREATE INDEX docs_embedding_live_idx ON docs USING hnsw (embedding vector_cosine_ops)`)
  } finally {
    client.release()
  }
  await db.sql('ANALYZE docs')
}

/**
 * Makes the adopted live generation retained behind a new live one (both with HNSW indexes), then
 * analyzes the table as autovacuum would soon after that cutover: the next build starts from a
 * table at rest, not from one whose last build's writes are still waiting for their ANALYZE.
 */
async function retainedGeneration(db: TestDatabase, adapter: StoreAdapter, page: number): Promise<void> {
  const c = { ...collection, adoptedProfile: undefined }
  await adapter.createGeneration(c, testSpec(2, LIVE_DIMS))
  let i = 0
  for await (const rows of adapter.pending(c, 2, { batchSize: page, phase: 'backfill' })) {
    await adapter.write(c, 2, rows.map((r) => ({ key: r.key, token: r.token, vector: randomVector(LIVE_DIMS, ++i) })))
  }
  await adapter.buildIndex(c, 2)
  const done = await adapter.cutover(c, 2, { maxHeldRows: 0 })
  if (done.status !== 'done') throw new Error(`setup cutover: ${JSON.stringify(done)}`)
  await db.sql('ANALYZE docs')
}

/** The table's update counts and autoanalyzes so far (pg_stat_user_tables). */
async function tableStats(db: TestDatabase): Promise<{ upd: number; hot: number; analyzed: number }> {
  const [row] = await db.sql<{ upd: number; hot: number; analyzed: number }>(
    `SELECT n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot, autoanalyze_count::float8 AS analyzed FROM pg_stat_user_tables WHERE relname = 'docs'`,
  )
  if (!row) throw new Error('no statistics for table docs')
  return row
}

async function indexBytes(db: TestDatabase): Promise<number> {
  const [row] = await db.sql<{ n: string }>(
    `SELECT pg_relation_size(i.indexrelid)::text AS n FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = 'docs'::regclass AND a.attname = 'embedding'`,
  )
  return Number(row?.n ?? 0)
}

function reader(url: string) {
  const client = new pg.Client({ connectionString: url })
  const samples: { at: number; ms: number }[] = []
  let running = true
  const q = `[${Array.from(randomVector(LIVE_DIMS, 7)).join(',')}]`
  const done = (async () => {
    await client.connect()
    while (running) {
      const t = performance.now()
      await client.query({ name: 'knn', text: 'SELECT id FROM docs ORDER BY embedding <=> $1::vector LIMIT 10', values: [q] })
      samples.push({ at: t, ms: performance.now() - t })
      await new Promise((r) => setTimeout(r, 5))
    }
    await client.end()
  })()
  return { samples, stop: async () => ((running = false), done) }
}

async function writePath(db: TestDatabase, adapter: StoreAdapter, batchSize: number) {
  await adapter.createGeneration(collection, testSpec(3, LIVE_DIMS, { ...testSpec(3, LIVE_DIMS).index, pgvector: { type: 'none', m: 16, efConstruction: 64 } }))
  const read = reader(db.url)
  await new Promise((r) => setTimeout(r, 1500))
  const before = await indexBytes(db)
  const s0 = await tableStats(db)
  let rows = 0
  let writeMs = 0
  const started = performance.now()
  for await (const page of adapter.pending(collection, 3, { batchSize, phase: 'backfill' })) {
    const vectors = page.map((r, i) => ({ key: r.key, token: r.token, vector: randomVector(LIVE_DIMS, rows + i + 1) }))
    const t = performance.now()
    await adapter.write(collection, 3, vectors)
    writeMs += performance.now() - t
    rows += page.length
  }
  const ended = performance.now()
  await new Promise((r) => setTimeout(r, 1500))
  await read.stop()
  await new Promise((r) => setTimeout(r, 11_000))
  const s1 = await tableStats(db)
  const after = await indexBytes(db)
  const baseline = read.samples.filter((s) => s.at < started).map((s) => s.ms)
  const during = read.samples.filter((s) => s.at >= started && s.at <= ended).map((s) => s.ms)
  await adapter.dropGeneration(collection, 3)
  return {
    rows,
    rowsPerSecond: Math.round((rows * 1000) / writeMs),
    heapOnlyShare: Number(((s1.hot - s0.hot) / Math.max(1, s1.upd - s0.upd)).toFixed(3)),
    // An ANALYZE's snapshot keeps the rounds' dead versions from being pruned (row-layout.ts).
    autoanalyzes: s1.analyzed - s0.analyzed,
    liveIndexBytesBefore: before,
    liveIndexBytesAfter: after,
    readerMs: { p50Before: percentile(baseline, 50), p99Before: percentile(baseline, 99), p50During: percentile(during, 50), p99During: percentile(during, 99), queriesDuring: during.length },
  }
}

async function encoderTextsPerSecond(dir: string, texts: string[], page: number): Promise<number> {
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(config.profiles['bert-tiny']!)
  try {
    await encoder.encode(texts.slice(0, page), 'document')
    const t = performance.now()
    for (let i = 0; i < texts.length; i += page) await encoder.encode(texts.slice(i, i + page), 'document')
    return (texts.length * 1000) / (performance.now() - t)
  } finally {
    await encoder.close()
  }
}

async function backfill(dir: string) {
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  let ms = 0
  let rows = 0
  const onEvent = (e: ProgressEvent) => {
    if (e.type === 'progress' && e.step.endsWith('/backfill')) rows = e.done
    if (e.type === 'step-end' && e.step.endsWith('/backfill')) ms = e.ms
  }
  const ctx = engineContextFor(config, { onEvent })
  try {
    const planStarted = performance.now()
    const plan = await makePlan(ctx, { measure: true })
    const planMs = performance.now() - planStarted
    const estimate = plan.collections[0]!.steps.find((s) => s.kind === 'backfill')!.estimate
    await applyPlan(ctx, plan)
    return { rows, ms, estimateSeconds: estimate.seconds ?? null, basis: estimate.basis, planMs }
  } finally {
    await ctx.close()
  }
}

async function measureSize(n: number) {
  const db = await createTestDatabase()
  const dir = mkdtempSync(join(tmpdir(), 'embedform-bench-migration-'))
  const adapter = await plugin.create({ name: 'main', kind: 'pgvector', url: db.url }, { baseDir: dir })
  try {
    // apply's own batches: what the store chooses for each width when no --batch-size is given.
    const writeBatch = batchRows(undefined, adapter.capabilities, LIVE_DIMS)
    const backfillBatch = batchRows(undefined, adapter.capabilities, BACKFILL_DIMS)
    await seed(db, n)
    await retainedGeneration(db, adapter, writeBatch)
    const write = { batchRows: writeBatch, ...(await writePath(db, adapter, writeBatch)) }
    await adapter.close()
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'bert-tiny')
    const passages = spamPassages(CORPUS)
    const texts = Array.from({ length: Math.min(n, 20_000) }, (_, i) => {
      const p = passages[i % passages.length]!
      return passageText(i < passages.length ? p : { title: p.title, body: `${p.body} (copy ${Math.floor(i / passages.length)})` })
    })
    // Before and after the backfill: other load on the machine drifts over minutes, and one
    // measurement taken at a quieter moment than the backfill would skew the ratio.
    const encoderBefore = await encoderTextsPerSecond(dir, texts, backfillBatch)
    const fill = await backfill(dir)
    const encoderAfter = await encoderTextsPerSecond(dir, texts, backfillBatch)
    const encoder = (encoderBefore + encoderAfter) / 2
    const actualSeconds = fill.ms / 1000
    const backfillRate = (fill.rows * 1000) / fill.ms
    return {
      rows: n,
      writePath: write,
      backfill: {
        model: 'builtin:bert-tiny',
        batchRows: backfillBatch,
        rows: fill.rows,
        seconds: Number(actualSeconds.toFixed(1)),
        rowsPerSecond: Math.round(backfillRate),
        encoderTextsPerSecond: Math.round(encoder),
        encoderBeforeAfter: [Math.round(encoderBefore), Math.round(encoderAfter)],
        ratio: Number((backfillRate / encoder).toFixed(3)),
      },
      plan: {
        estimateSeconds: fill.estimateSeconds === null ? null : Number(fill.estimateSeconds.toFixed(1)),
        actualSeconds: Number(actualSeconds.toFixed(1)),
        error: fill.estimateSeconds === null ? null : Number(((fill.estimateSeconds - actualSeconds) / actualSeconds).toFixed(3)),
        basis: fill.basis,
        planSeconds: Number((fill.planMs / 1000).toFixed(1)),
      },
    }
  } finally {
    await adapter.close().catch(() => undefined)
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const results = []
for (const n of SIZES) results.push(await measureSize(n))
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'migration',
      fillfactor: FILLFACTOR,
      encoderThreads: THREADS ?? availableParallelism(),
      loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
      targets: {
        writePathRowsPerSecond: '≥ 20,000 with a live HNSW index',
        backfillOverEncoder: '≥ 0.9 with bert-tiny at every size',
        planEstimateError: 'within ±30% of the actual backfill',
      },
      met: {
        writePath: results.every((r) => r.writePath.rowsPerSecond >= 20_000),
        backfill: results.every((r) => r.backfill.ratio >= 0.9),
        plan: results.every((r) => r.plan.error !== null && Math.abs(r.plan.error) <= 0.3),
      },
      results,
    },
    null,
    2,
  )}\n`,
)
