/**
 * Encoder throughput that cannot flatter us: embedform (fp32 and int8, token-budget and count
 * batching) against @huggingface/transformers' feature-extraction pipeline called naively (batches
 * in input order) AND handed the same texts sorted by length, fp32 and int8 — on the same ONNX files
 * (builtin bge-small-shape: bge-small-en-v1.5's exact shape), the same real texts (SpamAssassin
 * emails chunked like a backfill), batch size and threads. Each run is its own process; rounds are
 * interleaved; the JSON gives min/median/max, CPU seconds per 1,000 texts, peak RSS, the load average
 * and the cosine of int8 to fp32. `embedform bench` prints the same JSON for any profile.
 *
 *   npx vite-node bench/encoder.ts
 *   BENCH_TEXTS=200 BENCH_ROUNDS=2 BENCH_VARIANTS=embedform-fp32,embedform-int8 npx vite-node bench/encoder.ts
 *   BENCH_DEVICE=cuda npx vite-node bench/encoder.ts      # on a machine with the CUDA provider
 *   BENCH_MODE=session-options BENCH_QUANTIZE=int8 npx vite-node bench/encoder.ts   # each InferenceSession option vs the defaults
 *   BENCH_MODE=quality npx vite-node bench/encoder.ts     # int8 and fp16 vs fp32: cosine and retrieval metrics per builtin model
 *   BENCH_MODE=quality BENCH_MODELS=bert-tiny BENCH_PRECISIONS=fp16 BENCH_QUERIES=100 npx vite-node bench/encoder.ts
 *   BENCH_MODE=texts BENCH_TEXTS=2000 npx vite-node bench/encoder.ts > texts.jsonl   # the exact texts, for another framework (PyTorch)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Device, Profile } from '../src/core/types.js'
import { scoreRankings } from '../src/eval/evaluate.js'
import { readQrels, readQueries } from '../src/eval/formats.js'
import { benchTexts, compareEncoders, compareSessionOptions, parseVariants, runBenchWorkerIfAsked } from '../src/encoder/bench/index.js'
import { cosine, openEncoder } from '../src/encoder/index.js'
import type { Quantization } from '../src/models/index.js'
import { buildRetrievalSet } from '../tests/helpers/retrieval-set.js'

const QUALITY_MODELS: Record<string, Pick<Profile, 'dimensions' | 'pooling'>> = {
  starter: { dimensions: 100, pooling: 'mean' },
  'bert-tiny': { dimensions: 32, pooling: 'mean' },
  'bge-small-shape': { dimensions: 384, pooling: 'cls' },
}

/**
 * The quality cost of int8 and fp16: cosine of their vectors to the fp32 vectors over the corpus,
 * and NDCG/Recall/MRR@10 of exact (brute-force) search on the built-in retrieval set (SpamAssassin
 * subject → its body) — the same metrics `embedform eval` reports, without the store in between.
 */
async function quality(base: Profile, models: string[], precisions: Quantization[]): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'embedform-quality-'))
  try {
    const set = buildRetrievalSet(dir, { queries: Number(process.env.BENCH_QUERIES ?? 300), distractors: 300 })
    const queries = await readQueries(set.queriesFile)
    const qrels = await readQrels(set.qrelsFile)
    const docs = set.corpus.map((r) => `${r.title}\n${r.body}`)
    const out: Record<string, unknown> = {}
    for (const name of models) {
      const shape = QUALITY_MODELS[name] ?? { dimensions: base.dimensions, pooling: base.pooling }
      const fp32: Profile = { ...base, ...shape, name, model: { source: `builtin:${name}` } }
      const result: Record<string, unknown> = {}
      const vectors: Float32Array[][] = []
      for (const profile of [fp32, ...precisions.map((quantize) => ({ ...fp32, model: { ...fp32.model, quantize } }))]) {
        const encoder = await openEncoder(profile)
        const d = await encoder.encode(docs, 'document')
        const q = await encoder.encode(queries.map((x) => x.text), 'query')
        await encoder.close()
        vectors.push(d)
        const rankings = new Map(
          queries.map((query, i) => {
            const scored = d.map((v, j) => [cosine(q[i] as Float32Array, v), j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
            return [query.id, scored.slice(0, 10).map(([, j]) => String(set.corpus[j]?.id))]
          }),
        )
        const metrics: Record<string, number> = {}
        for (const metric of ['ndcg', 'recall', 'mrr'] as const) metrics[`${metric}@10`] = Number(scoreRankings({ name: metric, k: 10 }, rankings, { qrels }).value.toFixed(4))
        result[profile.model.quantize ?? 'fp32'] = metrics
      }
      precisions.forEach((precision, k) => {
        const sims = (vectors[0] ?? []).map((v, i) => cosine(v, vectors[k + 1]?.[i] as Float32Array)).sort((a, b) => a - b)
        result[`cosine ${precision} vs fp32`] = { min: Number((sims[0] ?? 0).toFixed(8)), median: Number((sims[Math.floor(sims.length / 2)] ?? 0).toFixed(8)), texts: sims.length }
      })
      out[name] = result
    }
    return { queries: queries.length, documents: docs.length, models: out }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!(await runBenchWorkerIfAsked())) {
  const profile: Profile = {
    name: 'bench-bge-small-shape',
    model: { source: 'builtin:bge-small-shape' },
    dimensions: 384,
    pooling: 'cls',
    normalize: true,
    zeroVectors: 'keep',
    maxTokens: 512,
    prefixes: { query: '', document: '' },
    device: (process.env.BENCH_DEVICE ?? 'cpu') as Device,
    batchSize: Number(process.env.BENCH_BATCH ?? 32),
    threads: Number(process.env.BENCH_THREADS ?? availableParallelism()),
    index: {
      metric: 'cosine',
      storage: 'vector',
      pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
      opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
    },
  }
  const log = (m: string) => process.stderr.write(`${m}\n`)
  // vite-node drops the script from process.argv, so say how to re-run this file as a worker.
  const workerArgs = [createRequire(import.meta.url).resolve('vite-node/vite-node.mjs'), import.meta.filename]
  const texts = Number(process.env.BENCH_TEXTS ?? 400)
  const words = Number(process.env.BENCH_WORDS ?? 200)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  if (process.env.BENCH_MODE === 'texts') {
    for (const text of benchTexts(texts, words)) process.stdout.write(`${JSON.stringify({ text })}\n`)
    process.exit(0)
  }
  const report =
    process.env.BENCH_MODE === 'quality'
      ? await quality(
          profile,
          (process.env.BENCH_MODELS ?? Object.keys(QUALITY_MODELS).join(',')).split(','),
          (process.env.BENCH_PRECISIONS ?? 'int8,fp16').split(',') as Quantization[],
        )
      : process.env.BENCH_MODE === 'session-options'
      ? await compareSessionOptions({
          profile: process.env.BENCH_QUANTIZE === 'int8' ? { ...profile, model: { ...profile.model, quantize: 'int8' } } : profile,
          texts,
          words,
          rounds,
          threads: profile.threads ?? availableParallelism(),
          workerArgs,
          log,
        })
      : await compareEncoders({
          profile,
          texts,
          words,
          rounds,
          ...(process.env.BENCH_VARIANTS ? { variants: parseVariants(process.env.BENCH_VARIANTS) } : {}),
          workerArgs,
          log,
        })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}
