/**
 * Search latency and eval throughput on the embedded default: PGlite on disk, the GloVe starter
 * model, real email (SpamAssassin subjects as queries, bodies as documents). Applies the profile
 * with the built CLI (`npm run build` first), then runs queries in-process with the encoder and
 * reranker opened once, as an application would. Prints one JSON object.
 *
 *   npx vite-node bench/search.ts
 *   BENCH_QUERIES=100 BENCH_DISTRACTORS=2000 npx vite-node bench/search.ts
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createEngineContext } from '../src/cli/engine-context.js'
import { openReranker } from '../src/encoder/index.js'
import { evaluateGenerations, generationProfile } from '../src/eval/evaluate.js'
import { readQrels, readQueries } from '../src/eval/formats.js'
import { selectGeneration } from '../src/search/generation.js'
import { type SearchResult, openSearchModels, search } from '../src/search/search.js'
import { openTarget } from '../src/search/target.js'
import { buildRetrievalSet, seedPglite } from '../tests/helpers/retrieval-set.js'

const QUERIES = Number(process.env.BENCH_QUERIES ?? 200)
const DISTRACTORS = Number(process.env.BENCH_DISTRACTORS ?? 1000)

const PROFILE = `model: { source: "builtin:starter" }
dimensions: 100
pooling: mean
normalize: true
max_tokens: 256
batch_size: 256
device: cpu
reranker:
  enabled: false
  model: { source: "builtin:cross-encoder-tiny" }
  top_k: 20
  return_top_k: 5
index:
  metric: cosine
  pgvector: { type: hnsw, m: 16, ef_construction: 64 }
`
const CONFIG = `version: 1
profiles_dir: ./profiles
stores:
  main: { kind: pglite, path: ./pglite }
collections:
  docs: { store: main, table: docs, key: id, text: [body], vector: embedding, profile: starter }
`

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

function summary(values: number[]): { p50: number; p95: number; mean: number } {
  const round = (n: number) => Math.round(n * 100) / 100
  return { p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), mean: round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)) }
}

const dir = mkdtempSync(join(tmpdir(), 'embedform-bench-search-'))
try {
  const set = buildRetrievalSet(join(dir, 'eval'), { queries: QUERIES, distractors: DISTRACTORS })
  await seedPglite(join(dir, 'pglite'), set.corpus)
  mkdirSync(join(dir, 'profiles'))
  writeFileSync(join(dir, 'profiles', 'starter.yaml'), PROFILE)
  writeFileSync(join(dir, 'embedding.config.yaml'), CONFIG)
  const applyStart = performance.now()
  execFileSync(process.execPath, [resolve(import.meta.dirname, '../bin/run.js'), 'apply', '--auto-approve'], { cwd: dir, stdio: 'ignore' })
  const applyMs = performance.now() - applyStart

  const ctx = await createEngineContext(join(dir, 'embedding.config.yaml'))
  try {
    const { collection, adapter, state } = await openTarget(ctx, undefined)
    const generation = selectGeneration(state, { kind: 'live' })
    const profile = generationProfile(generation, collection, ctx.config)
    const queries = await readQueries(set.queriesFile)
    const run = async (rerank: boolean): Promise<SearchResult[]> => {
      const models = await openSearchModels(profile, { rerank, openEncoder: ctx.openEncoder, openReranker })
      try {
        const out: SearchResult[] = []
        for (const q of queries) out.push(await search({ adapter, collection, generation, models, query: q.text, k: 10, hybrid: false }))
        return out
      } finally {
        await models.close()
      }
    }
    const knn = await run(false)
    const reranked = await run(true)
    const evalStart = performance.now()
    const report = await evaluateGenerations({
      adapter,
      collection,
      config: ctx.config,
      available: state.generations,
      targets: [generation],
      queries,
      qrels: await readQrels(set.qrelsFile),
      cutoffs: [10],
      openEncoder: ctx.openEncoder,
    })
    const evalMs = performance.now() - evalStart
    const metrics = report.generations[0]?.metrics ?? {}
    console.log(
      JSON.stringify(
        {
          corpus: set.corpus.length,
          queries: queries.length,
          applyMs: Math.round(applyMs),
          knn: { encodeMs: summary(knn.map((r) => r.timings.encodeMs)), retrieveMs: summary(knn.map((r) => r.timings.retrieveMs)), totalMs: summary(knn.map((r) => r.timings.totalMs)) },
          rerank: {
            candidates: 20,
            encodeMs: summary(reranked.map((r) => r.timings.encodeMs)),
            retrieveMs: summary(reranked.map((r) => r.timings.retrieveMs)),
            rerankMs: summary(reranked.map((r) => r.timings.rerankMs ?? 0)),
            totalMs: summary(reranked.map((r) => r.timings.totalMs)),
          },
          eval: { ms: Math.round(evalMs), queriesPerSecond: Math.round((queries.length / evalMs) * 1000), ndcg10: metrics['ndcg@10']?.value, recall10: metrics['recall@10']?.value, mrr10: metrics['mrr@10']?.value },
        },
        null,
        2,
      ),
    )
  } finally {
    await ctx.close()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
