/**
 * Convergence under load (issue #9): apply of a new generation (builtin:starter → the same model
 * with a document prefix) on native PostgreSQL while application writers insert, edit and delete
 * rows at a target rate. For each rate: whether apply completed, how long the cutover held the
 * application's writes and paused readers, how many rows it embedded while holding, cutover
 * retries, the write rate the writers actually achieved, and — checked in the data — how many
 * live rows are neither fresh (vector = encode of the current text) nor queued for sync.
 *
 * The HNSW index of both generations is pgvector's default (m 16, ef_construction 64) unless
 * BENCH_HNSW=m,ef_construction says otherwise: every row catch-up writes after the new index is
 * built is inserted into both graphs, so the index's cost bounds the write rate apply can follow.
 * BENCH_MAX_HOLD_MS is apply's --max-hold-ms (default 1000).
 *
 *   npx vite-node bench/convergence.ts
 *   BENCH_RATES=100,500 BENCH_ROWS=5000 BENCH_HNSW=32,200 npx vite-node bench/convergence.ts
 * Prints one JSON object. Needs scripts/setup-postgres.sh.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { applyPlan } from '../src/apply/index.js'
import { engineContextFor } from '../src/cli/engine-context.js'
import { loadConfig } from '../src/config/index.js'
import { isEmbedformError } from '../src/core/errors.js'
import type { ProgressEvent } from '../src/core/events.js'
import { openEncoder } from '../src/encoder/index.js'
import { makePlan } from '../src/plan/index.js'
import { changeRecord } from '../plugins/pgvector/changes.js'
import { resolveTable } from '../plugins/pgvector/table-ref.js'
import { PROFILES, writeProject } from '../tests/helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../tests/helpers/pg.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../tests/helpers/spam-corpus.js'

const RATES = (process.env.BENCH_RATES ?? '100,250,500,1000').split(',').map(Number)
const ROWS = Number(process.env.BENCH_ROWS ?? 5000)
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32)
const [HNSW_M, HNSW_EF] = (process.env.BENCH_HNSW ?? '16,64').split(',').map(Number) as [number, number]
const MAX_HOLD_MS = Number(process.env.BENCH_MAX_HOLD_MS ?? 1000)
PROFILES['starter'] = PROFILES['starter']!.replace(/pgvector: \{[^}]*\}/, `pgvector: { type: hnsw, m: ${HNSW_M}, ef_construction: ${HNSW_EF} }`)

async function apply(dir: string) {
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const stats: Record<string, number> = {}
  const onEvent = (e: ProgressEvent) => {
    if (e.type === 'step-end') Object.assign(stats, e.detail ?? {})
    // Progress of the apply under load goes to stderr, so a slow run shows where it is.
    if (e.type === 'log' || e.type === 'step-start') process.stderr.write(`${JSON.stringify(e)}\n`)
  }
  const ctx = engineContextFor(config, { onEvent })
  try {
    await applyPlan(ctx, await makePlan(ctx, { measure: false }), { maxHoldMs: MAX_HOLD_MS })
    return { ok: true as const, stats }
  } catch (err) {
    return { ok: false as const, code: isEmbedformError(err) ? `${err.code}: ${err.message}` : String(err), stats }
  } finally {
    await ctx.close()
  }
}

function writers(db: TestDatabase, perSecond: number) {
  let running = true
  let writes = 0
  const texts = spamPassages(ROWS + 4000).slice(ROWS)
  const one = async (w: number) => {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    // The application's durability choice, not embedform's: without it, fsync per commit caps the writers below the target rate.
    await client.query('SET synchronous_commit = off')
    const interval = (1000 * WRITERS) / perSecond
    let next = performance.now()
    try {
      for (let i = 0; running; i++) {
        const p = texts[(w * 500 + i) % texts.length]!
        const id = 1_000_000 + w * 100_000 + i
        if (i % 3 === 0) await client.query('INSERT INTO docs (id, title, body) VALUES ($1, $2, $3)', [id, p.title, p.body])
        else if (i % 3 === 1) await client.query('UPDATE docs SET body = $2 WHERE id = $1', [1 + ((w * 7919 + i * 31) % ROWS), p.body])
        else await client.query('DELETE FROM docs WHERE id = $1', [id - 2])
        writes++
        next += interval
        const wait = next - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }
    } finally {
      await client.end()
    }
  }
  const started = performance.now()
  const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => one(w)))
  return { stop: async () => ((running = false), await done, writes / ((performance.now() - started) / 1000)) }
}

async function measure(rate: number) {
  const db = await createTestDatabase()
  const dir = mkdtempSync(join(tmpdir(), 'embedform-bench-convergence-'))
  try {
    await seedDocs(db.pool, spamPassages(ROWS))
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
    const first = await apply(dir)
    if (!first.ok) throw new Error(`initial apply failed: ${first.code}`)
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')
    const load = writers(db, rate)
    const started = performance.now()
    const result = await apply(dir)
    const seconds = (performance.now() - started) / 1000
    const achieved = await load.stop()
    // Rows edited after the swap are stale in the live generation and queued for sync; any other
    // row must hold the vector of its current text.
    const collection = { name: 'docs', store: 'main', profile: 'passage', target: 'docs', key: 'id', text: { columns: ['title', 'body'], separator: '\n' }, vector: 'embedding' }
    const queue = changeRecord(resolveTable(collection)).queue
    const live = result.ok ? 2 : 1
    const queued = new Set((await db.sql<{ k: string }>(`SELECT k FROM ${queue} WHERE g = $1`, [live])).map((r) => r.k))
    const rows = (await db.sql<StoredRow>(`SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id`)).filter((r) => !queued.has(String(r.id)))
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const encoder = await openEncoder(config.profiles[result.ok ? 'passage' : 'starter']!)
    let wrong: number
    try {
      wrong = (await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))).length
    } finally {
      await encoder.close()
    }
    return {
      targetWritesPerSecond: rate,
      achievedWritesPerSecond: Math.round(achieved),
      applyOk: result.ok,
      ...(result.ok ? {} : { error: result.code }),
      applySeconds: Number(seconds.toFixed(1)),
      writesHeldMs: result.stats.heldMs ?? null,
      readersPausedMs: result.stats.swapMs ?? null,
      embeddedWhileHeld: result.stats.embeddedWhileHeld ?? 0,
      cutoverRetries: result.stats.cutoverRetries ?? 0,
      catchUpPasses: result.stats.catchUpPasses ?? 0,
      liveRowsCheckedFresh: rows.length,
      liveRowsQueuedForSync: queued.size,
      liveRowsWrong: wrong,
    }
  } finally {
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const results = []
for (const rate of RATES) results.push(await measure(rate))
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'convergence',
      model: 'builtin:starter (GloVe 100-d) → the same with a document prefix',
      rows: ROWS,
      hnsw: { m: HNSW_M, efConstruction: HNSW_EF },
      maxHoldMs: MAX_HOLD_MS,
      loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
      target: 'apply completes with writers at ≥ 500 writes/s, 0 wrong live rows',
      met: results.filter((r) => r.targetWritesPerSecond >= 500).every((r) => r.applyOk && r.achievedWritesPerSecond >= 500 && r.liveRowsWrong === 0),
      results,
    },
    null,
    2,
  )}\n`,
)
