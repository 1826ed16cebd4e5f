/**
 * Backfill efficiency (issue #4): the engine's backfill rows/s on a real store divided by the
 * encoder's standalone texts/s on the same passages. 1.0 means the store, the journal and the
 * pipeline cost nothing on top of encoding; the target is ≥ 0.9 on native PostgreSQL.
 * Runs builtin:starter (GloVe 100-d) and builtin:bert-tiny (BERT-style), on native
 * PostgreSQL + pgvector and on PGlite. Prints one JSON object.
 *
 *   npx vite-node bench/backfill.ts                (needs scripts/setup-postgres.sh)
 *   BENCH_ROWS=10000 BENCH_PGLITE_ROWS=3000 npx vite-node bench/backfill.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { applyPlan } from '../src/apply/index.js'
import { engineContextFor } from '../src/cli/engine-context.js'
import { loadConfig } from '../src/config/index.js'
import type { ProgressEvent } from '../src/core/events.js'
import type { Profile } from '../src/core/types.js'
import { openEncoder } from '../src/encoder/index.js'
import { makePlan } from '../src/plan/index.js'
import { PROFILES, writeProject } from '../tests/helpers/cli.js'
import { createTestDatabase } from '../tests/helpers/pg.js'
import { type Passage, passageText, seedDocs, spamPassages } from '../tests/helpers/spam-corpus.js'

const NATIVE_ROWS = Number(process.env.BENCH_ROWS ?? 5000)
const PGLITE_ROWS = Number(process.env.BENCH_PGLITE_ROWS ?? 3000)
/** Rows per pending page / encode call / write: the engine's default. */
const PAGE = 1000

PROFILES['bert-tiny'] = `name: bert-tiny
model: { source: "builtin:bert-tiny" }
dimensions: 32
pooling: mean
normalize: true
max_tokens: 256
batch_size: 64
index:
  metric: cosine
  pgvector: { type: none }
`

/** The encoder alone, paged like the backfill, after one warm-up page. */
async function encoderTextsPerSecond(profile: Profile, passages: Passage[]): Promise<number> {
  const encoder = await openEncoder(profile)
  try {
    const texts = passages.map(passageText)
    await encoder.encode(texts.slice(0, Math.min(PAGE, texts.length)), 'document')
    const t0 = performance.now()
    for (let i = 0; i < texts.length; i += PAGE) await encoder.encode(texts.slice(i, i + PAGE), 'document')
    return (texts.length * 1000) / (performance.now() - t0)
  } finally {
    await encoder.close()
  }
}

/** Runs a real plan + apply and times the backfill step from the engine's own progress events. */
async function backfillRowsPerSecond(dir: string): Promise<{ rows: number; ms: number; rowsPerSecond: number }> {
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  let ms = 0
  let rows = 0
  const onEvent = (e: ProgressEvent) => {
    if (e.type === 'progress' && e.step.endsWith('/backfill')) rows = e.done
    if (e.type === 'step-end' && e.step.endsWith('/backfill')) ms = e.ms
  }
  const ctx = engineContextFor(config, { onEvent })
  try {
    await applyPlan(ctx, await makePlan(ctx, { measure: false }))
  } finally {
    await ctx.close()
  }
  return { rows, ms, rowsPerSecond: (rows * 1000) / ms }
}

async function measure(store: 'pgvector' | 'pglite', profileName: string, count: number) {
  const passages = spamPassages(count)
  const dir = mkdtempSync(join(tmpdir(), `embedform-bench-${store}-`))
  const db = store === 'pgvector' ? await createTestDatabase() : undefined
  try {
    if (db) {
      writeProject(dir, { kind: 'pgvector', url: db.url }, profileName)
      await seedDocs(db.pool, passages)
    } else {
      writeProject(dir, { kind: 'pglite', path: 'data' }, profileName)
      mkdirSync(join(dir, 'data'), { recursive: true })
      const lite = new PGlite(join(dir, 'data'), { extensions: { vector } })
      await lite.exec('CREATE EXTENSION IF NOT EXISTS vector')
      await seedDocs(lite, passages)
      await lite.close()
    }
    const profile = (await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })).profiles[profileName]!
    const encoder = await encoderTextsPerSecond(profile, passages)
    const backfill = await backfillRowsPerSecond(dir)
    return {
      store,
      model: profile.model.source,
      dimensions: profile.dimensions,
      rows: backfill.rows,
      encoderTextsPerSecond: Math.round(encoder),
      backfillRowsPerSecond: Math.round(backfill.rowsPerSecond),
      backfillSeconds: Number((backfill.ms / 1000).toFixed(2)),
      ratio: Number((backfill.rowsPerSecond / encoder).toFixed(3)),
    }
  } finally {
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const results = []
for (const profile of ['starter', 'bert-tiny']) {
  results.push(await measure('pgvector', profile, NATIVE_ROWS))
  results.push(await measure('pglite', profile, PGLITE_ROWS))
}
const native = results.filter((r) => r.store === 'pgvector')
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'backfill',
      target: 'native backfill rows/s ÷ encoder texts/s ≥ 0.9',
      met: native.every((r) => r.ratio >= 0.9),
      results,
    },
    null,
    2,
  )}\n`,
)
