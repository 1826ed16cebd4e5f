/**
 * Write path and swap benchmarks for the pgvector adapter. Prints one JSON object.
 *   npx vite-node bench/pg-write.ts            (needs scripts/setup-postgres.sh)
 * Targets: native write ≥ 20k rows/s (384-d, 50k rows); cutover lock < 100 ms with 4 readers.
 */
import { performance } from 'node:perf_hooks'
import type { Collection } from '../src/core/types.js'
import type { RowKey, StoreAdapter } from '../src/store/adapter.js'
import { PgliteDriver, PgvectorAdapter, plugin } from '../plugins/pgvector/index.js'
import { testSpec } from '../tests/conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../tests/helpers/pg.js'

const DIMS = 384
const NATIVE_ROWS = 50_000
const PGLITE_ROWS = 20_000
const BATCH = 5_000
const READERS = 4

const collection: Collection = {
  name: 'docs',
  store: 'bench',
  profile: 'bench',
  target: 'docs',
  key: 'id',
  text: { columns: ['body'], separator: ' ' },
  vector: 'embedding',
}

function randomVector(): Float32Array {
  const v = new Float32Array(DIMS)
  for (let i = 0; i < DIMS; i++) v[i] = Math.random() * 2 - 1
  return v
}

/** Reads every pending row first, so the timed part is the write path alone. */
async function timedWrite(adapter: StoreAdapter, generation: number): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  const batches: { key: RowKey; token?: string; vector: Float32Array }[][] = []
  for await (const page of adapter.pending(collection, generation, { batchSize: BATCH, phase: 'backfill' })) {
    batches.push(page.map((r) => ({ key: r.key, token: r.token, vector: randomVector() })))
  }
  const rows = batches.reduce((n, b) => n + b.length, 0)
  const start = performance.now()
  for (const batch of batches) await adapter.write(collection, generation, batch)
  const seconds = (performance.now() - start) / 1000
  return { rows, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds) }
}

async function swapUnderLoad(db: TestDatabase, adapter: StoreAdapter) {
  let stop = false
  let errors = 0
  const latencies: { at: number; ms: number }[] = []
  const reader = async () => {
    const client = await db.pool.connect()
    try {
      while (!stop) {
        const t0 = performance.now()
        try {
          // Point reads of the vector column: fast enough that any wait is the swap's lock.
          await client.query('SELECT id, embedding FROM public.docs WHERE id = $1', [1 + Math.floor(Math.random() * NATIVE_ROWS)])
        } catch {
          errors++
        }
        latencies.push({ at: t0, ms: performance.now() - t0 })
      }
    } finally {
      client.release()
    }
  }
  const readers = Array.from({ length: READERS }, reader)
  await new Promise((r) => setTimeout(r, 500))
  const before = latencies.length
  const start = performance.now()
  await adapter.cutover(collection, 2, { maxHeldRows: 0 })
  const cutoverMs = performance.now() - start
  await new Promise((r) => setTimeout(r, 500))
  stop = true
  await Promise.all(readers)
  const baseline = latencies.slice(0, before).map((l) => l.ms)
  const during = latencies.filter((l) => l.at >= start - 1 && l.at <= start + cutoverMs).map((l) => l.ms)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  return {
    readers: READERS,
    cutoverCallMs: Number(cutoverMs.toFixed(1)),
    // Extra wait a reader saw while the swap held ACCESS EXCLUSIVE: worst reader latency during the swap minus normal.
    readerBlockedMs: Number((Math.max(0, ...during) - median(baseline)).toFixed(1)),
    readerMedianMs: Number(median(baseline).toFixed(1)),
    readerErrors: errors,
  }
}

async function native() {
  const db = await createTestDatabase()
  const adapter = await plugin.create({ name: 'bench', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
  try {
    await createDocsTable(db, 'docs', NATIVE_ROWS)
    await adapter.createGeneration(collection, testSpec(1, DIMS))
    const write = await timedWrite(adapter, 1)
    await adapter.cutover(collection, 1, { maxHeldRows: 0 })
    await adapter.createGeneration(collection, testSpec(2, DIMS))
    await timedWrite(adapter, 2)
    const swap = await swapUnderLoad(db, adapter)
    return { write, swap }
  } finally {
    await adapter.close()
    await db.drop()
  }
}

async function pglite() {
  const driver = await PgliteDriver.open('memory://')
  const adapter = new PgvectorAdapter('pglite', driver)
  try {
    await driver.query(`CREATE TABLE public.docs (id bigint PRIMARY KEY, body text)`)
    await driver.query(`INSERT INTO public.docs (id, body) SELECT i, 'document ' || i FROM generate_series(1, ${PGLITE_ROWS}) i`)
    await adapter.createGeneration(collection, testSpec(1, DIMS))
    return { write: await timedWrite(adapter, 1) }
  } finally {
    await adapter.close()
  }
}

const result = {
  dimensions: DIMS,
  batchSize: BATCH,
  native: { rows: NATIVE_ROWS, ...(await native()) },
  pglite: { rows: PGLITE_ROWS, ...(await pglite()) },
  targets: { nativeWriteRowsPerSecond: 20_000, swapLockMs: 100 },
}
console.log(JSON.stringify(result, null, 2))
