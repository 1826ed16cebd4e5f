/**
 * Sync and worker benchmarks on native PostgreSQL and the OpenSearch HTTP double. Prints one JSON object.
 *   npx vite-node bench/sync.ts            (needs scripts/setup-postgres.sh; npm run build not needed)
 *
 * 1. `sync --watch` lag under a steady write load: the application edits distinct rows at a fixed
 *    rate (text only) while a watcher (GloVe starter profile) keeps the live generation fresh.
 *    Per change: from the writer's commit until its queue entry is gone (the vector of that text
 *    is written), polled every 20 ms. Also the lag `status` reports (age of the oldest queued
 *    change), sampled every 100 ms.
 * 2. Backfill throughput with 1, 2 and 4 workers sharing key-range leases, with an encoder that
 *    sleeps per batch (a stand-in for a GPU: on 2 shared cores more CPU encoders cannot help).
 * 3. The same on the OpenSearch HTTP double, the workers sharing slices of a sliced point-in-time.
 * Numbers depend on the machine's load: loadavg is reported with them. Knobs: BENCH_WRITES_PER_SECOND,
 * BENCH_WRITE_SECONDS, BENCH_ONLY=lag|workers|os-workers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { engineContextFor } from '../src/cli/engine-context.js'
import { loadConfig } from '../src/config/index.js'
import type { Collection, IndexSettings } from '../src/core/types.js'
import type { Encoder } from '../src/encoder/types.js'
import type { StoreAdapter } from '../src/store/adapter.js'
import { watch } from '../src/sync/index.js'
import { leasedBackfill } from '../src/workers/backfill.js'
import { changeRecord } from '../plugins/pgvector/changes.js'
import { OpenSearchAdapter, OsHttp } from '../plugins/opensearch/index.js'
import { plugin } from '../plugins/pgvector/index.js'
import { resolveTable } from '../plugins/pgvector/table-ref.js'
import { testSpec } from '../src/testing/spec.js'
import { fakeVector } from '../tests/helpers/fake-encoder.js'
import { runCli, writeProject } from '../tests/helpers/cli.js'
import { startOpenSearchDouble } from '../tests/helpers/opensearch-double/server.js'
import { createDocsTable, createTestDatabase } from '../tests/helpers/pg.js'
import { seedDocs, spamPassages } from '../tests/helpers/spam-corpus.js'

const WRITES_PER_SECOND = Number(process.env.BENCH_WRITES_PER_SECOND ?? 50)
const WRITE_SECONDS = Number(process.env.BENCH_WRITE_SECONDS ?? 20)
const LAG_ROWS = 3000
const WORKER_ROWS = 4000
const WORKER_BATCH = 100
const ENCODER_SLEEP_MS = 100
const DIMS = 64

/**
 * One backfill of a new generation by 1, 2 and 4 of `adapters` (each a worker with its own
 * adapter, as a process would have), leasing units of 500 rows; `units` names what the store
 * leases (key ranges, slices) in the result.
 */
async function leasedRuns(adapters: StoreAdapter[], c: Collection, units: 'ranges' | 'slices'): Promise<Record<string, unknown>[]> {
  const runs: Record<string, unknown>[] = []
  for (const [i, workers] of [1, 2, 4].entries()) {
    const g = i + 1
    await adapters[0]!.createGeneration(c, testSpec(g, DIMS, HNSW_COSINE))
    await adapters[0]!.planRanges!(c, g, 500)
    const load = loadavg()[0]!
    const t0 = performance.now()
    const done = await Promise.all(
      adapters.slice(0, workers).map((adapter, w) =>
        leasedBackfill({ adapter, collection: c, generation: g, encoder: sleepingEncoder(), zeroVectors: 'keep', holder: `bench worker ${w}`, ttlMs: 10_000, batchSize: WORKER_BATCH, retryBaseMs: 100 }),
      ),
    )
    const seconds = (performance.now() - t0) / 1000
    const rows = done.reduce((s, d) => s + d.found, 0)
    runs.push({ workers, rows, [units]: done.reduce((s, d) => s + d.ranges, 0), seconds: Number(seconds.toFixed(2)), rowsPerSecond: round(rows / seconds), loadavg1m: Number(load.toFixed(2)) })
    await adapters[0]!.dropGeneration(c, g)
  }
  return runs
}

/** What tests/conformance/generation-spec.ts uses, restated: that module pulls in vitest through the conformance kit. */
const HNSW_COSINE: IndexSettings = {
  metric: 'cosine',
  storage: 'vector',
  pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
  opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const round = (x: number) => Math.round(x)
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

async function watchLag() {
  const db = await createTestDatabase()
  const dir = mkdtempSync(join(tmpdir(), 'embedform-bench-sync-'))
  const load = [loadavg()[0]!]
  try {
    await seedDocs(db.pool, spamPassages(LAG_ROWS))
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, timeoutMs: 300_000 })
    if (apply.code !== 0) throw new Error(`setup apply failed: ${apply.stderr}`)
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const ctx = engineContextFor(config)
    const c = config.collections.docs!
    const queue = changeRecord(resolveTable(c)).queue
    const abort = new AbortController()
    const watching = watch(ctx, 'docs', { signal: abort.signal, sweepMs: 60_000 }, {})
    await sleep(3000)
    const writer = new pg.Client({ connectionString: db.url })
    const poller = new pg.Client({ connectionString: db.url })
    await writer.connect()
    await poller.connect()
    const outstanding = new Map<string, number>()
    const latencies: number[] = []
    const reported: number[] = []
    let writing = true
    const polling = (async () => {
      let lastStatus = 0
      while (writing || outstanding.size > 0) {
        const keys = [...outstanding.keys()]
        if (keys.length > 0) {
          const r = await poller.query<{ k: string }>(`SELECT k FROM ${queue} WHERE g = 1 AND k = ANY($1::text[])`, [keys])
          const still = new Set(r.rows.map((x) => x.k))
          const now = performance.now()
          for (const k of keys) {
            if (still.has(k)) continue
            latencies.push(now - outstanding.get(k)!)
            outstanding.delete(k)
          }
        }
        if (performance.now() - lastStatus >= 100) {
          lastStatus = performance.now()
          const r = await poller.query<{ ms: number | null }>(`SELECT (extract(epoch FROM now() - min(at)) * 1000)::float8 AS ms FROM ${queue} WHERE g = 1`)
          reported.push(Math.max(0, r.rows[0]?.ms ?? 0))
        }
        await sleep(20)
      }
    })()
    const started = performance.now()
    let n = 0
    while (performance.now() - started < WRITE_SECONDS * 1000) {
      const id = 1 + (n % LAG_ROWS)
      await writer.query(`UPDATE docs SET body = body || ' edit ' || $2::text WHERE id = $1`, [id, String(n)])
      outstanding.set(String(id), performance.now())
      n++
      const next = started + (n * 1000) / WRITES_PER_SECOND
      await sleep(Math.max(0, next - performance.now()))
    }
    load.push(loadavg()[0]!)
    writing = false
    await polling
    abort.abort()
    await watching
    await ctx.close()
    await writer.end()
    await poller.end()
    return {
      writesPerSecond: WRITES_PER_SECOND,
      writes: n,
      perChangeMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)) },
      reportedLagMs: { p50: round(percentile(reported, 50)), p99: round(percentile(reported, 99)), samples: reported.length },
      loadavg1m: load.map((x) => Number(x.toFixed(2))),
    }
  } finally {
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function sleepingEncoder(): Encoder {
  const encode = async (texts: string[]) => {
    await sleep(ENCODER_SLEEP_MS)
    return texts.map((t) => fakeVector(t, DIMS))
  }
  return {
    dimensions: DIMS,
    provider: 'sleep',
    encode,
    async *encodeStream(batches) {
      for await (const items of batches) yield { items, vectors: await encode(items.map((i) => i.text)) }
    },
    close: async () => undefined,
  }
}

async function workerThroughput() {
  const db = await createTestDatabase()
  const c: Collection = { name: 'docs', store: 'bench', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }
  const adapters: StoreAdapter[] = []
  try {
    await createDocsTable(db, 'docs', WORKER_ROWS)
    for (let i = 0; i < 4; i++) adapters.push(await plugin.create({ name: 'bench', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() }))
    const runs = await leasedRuns(adapters, c, 'ranges')
    return { rows: WORKER_ROWS, batch: WORKER_BATCH, encoderSleepMsPerBatch: ENCODER_SLEEP_MS, runs }
  } finally {
    await Promise.allSettled(adapters.map((a) => a.close()))
    await db.drop()
  }
}

/**
 * The same backfill on the OpenSearch HTTP double: slices of a sliced point-in-time leased in
 * `.embedform`. Each worker has its own adapter (its own lease bookkeeping, as a process would);
 * the double answers in this process, so its own work shares the event loop with the workers.
 */
async function openSearchWorkerThroughput() {
  const d = await startOpenSearchDouble()
  const c: Collection = { name: 'docs', store: 'bench', profile: 'p', target: 'docs', key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding', updatedAt: 'updated_at' }
  const adapters = Array.from({ length: 4 }, () => new OpenSearchAdapter(OsHttp.fromStore({ name: 'bench', kind: 'opensearch', node: d.url })))
  try {
    d.cluster.createIndex('docs', {
      settings: { index: { number_of_replicas: 0 } },
      mappings: { properties: { id: { type: 'long' }, body: { type: 'text' }, updated_at: { type: 'date', format: 'epoch_millis' } } },
    })
    for (const [i, p] of spamPassages(WORKER_ROWS).entries()) d.cluster.write({ op: 'index', index: 'docs', id: String(i + 1), source: { id: i + 1, body: p.body, updated_at: Date.now() } })
    d.cluster.refresh('docs')
    const runs = await leasedRuns(adapters, c, 'slices')
    return { store: 'opensearch double', rows: WORKER_ROWS, batch: WORKER_BATCH, encoderSleepMsPerBatch: ENCODER_SLEEP_MS, runs }
  } finally {
    await Promise.allSettled(adapters.map((a) => a.close()))
    await d.close()
  }
}

/** BENCH_ONLY=lag, BENCH_ONLY=workers (PostgreSQL) or BENCH_ONLY=os-workers (OpenSearch double) runs one part. */
const only = process.env.BENCH_ONLY
const lag = only === undefined || only === 'lag' ? await watchLag() : null
const workers = only === undefined || only === 'workers' ? await workerThroughput() : null
const openSearchWorkers = only === undefined || only === 'os-workers' ? await openSearchWorkerThroughput() : null
process.stdout.write(`${JSON.stringify({ bench: 'sync', watchLag: lag, workers, openSearchWorkers, loadavg: loadavg().map((x) => Number(x.toFixed(2))) }, null, 2)}\n`)
