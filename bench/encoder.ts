/**
 * Encoder throughput: embedform vs @huggingface/transformers feature-extraction on the same ONNX
 * model (builtin bge-small-shape: bge-small-en-v1.5's exact shape), the same real texts (SpamAssassin
 * emails chunked like a backfill), the same batch size and threads. Prints one JSON object.
 *
 *   npx vite-node bench/encoder.ts            # 2,000 texts
 *   BENCH_TEXTS=200 BENCH_ROUNDS=2 npx vite-node bench/encoder.ts
 */
import { availableParallelism, loadavg } from 'node:os'
import { basename, dirname } from 'node:path'
import { env, pipeline } from '@huggingface/transformers'
import type { Profile } from '../src/core/types.js'
import { cosine, openEncoder, peakRssMiB } from '../src/encoder/index.js'
import { ensureBuiltinModel } from '../src/models/index.js'
import { loadPassages } from '../src/sample/spam-corpus.js'

const TEXTS = Number(process.env.BENCH_TEXTS ?? 2000)
const BATCH = Number(process.env.BENCH_BATCH ?? 32)
const THREADS = Number(process.env.BENCH_THREADS ?? availableParallelism())
const MAX_TOKENS = 512
const WORDS_PER_CHUNK = 200

const round = (n: number, d = 1) => Number(n.toFixed(d))

const dir = await ensureBuiltinModel('bge-small-shape', { log: (m) => process.stderr.write(`${m}\n`) })
const texts = loadPassages({ limit: TEXTS, words: WORDS_PER_CHUNK }).map((p) => `${p.title}\n${p.body}`)

const profile: Profile = {
  name: 'bench-bge-small-shape',
  model: { source: dir },
  dimensions: 384,
  pooling: 'cls',
  normalize: true,
  maxTokens: MAX_TOKENS,
  prefixes: { query: '', document: '' },
  device: 'cpu',
  batchSize: BATCH,
  threads: THREADS,
  index: {
    metric: 'cosine',
    storage: 'vector',
    pgvector: { type: 'hnsw', m: 16, efConstruction: 64 },
    opensearch: { engine: 'faiss', m: 16, efConstruction: 64 },
  },
}

const encoder = await openEncoder(profile)
env.allowRemoteModels = false
env.localModelPath = `${dirname(dir)}/`
const extractor = await pipeline('feature-extraction', basename(dir), {
  dtype: 'fp32',
  device: 'cpu',
  session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
})
await encoder.encode(texts.slice(0, BATCH), 'document')
await extractor(texts.slice(0, BATCH), { pooling: 'cls', normalize: true })

/** embedform: the whole list through encode() (length-sorted, dynamically padded, pipelined). */
async function runOurs(): Promise<{ ms: number; sessionMs: number; vectors: Float32Array[] }> {
  const sessionBefore = encoder.sessionMs
  const started = performance.now()
  const vectors = await encoder.encode(texts, 'document')
  return { ms: performance.now() - started, sessionMs: encoder.sessionMs - sessionBefore, vectors }
}

/** transformers.js: the pipeline called batch by batch in input order, as an application would. */
async function runTheirs(): Promise<{ ms: number; vectors: number[][] }> {
  const vectors: number[][] = []
  const started = performance.now()
  for (let i = 0; i < texts.length; i += BATCH) {
    const out = await extractor(texts.slice(i, i + BATCH), { pooling: 'cls', normalize: true })
    vectors.push(...(out.tolist() as number[][]))
  }
  return { ms: performance.now() - started, vectors }
}

// Alternating rounds, best of each: on a shared machine the load changes between runs, and
// running one side entirely first would hand it a different machine than the other.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
let best: Awaited<ReturnType<typeof runOurs>> | undefined
let bestTheirs: Awaited<ReturnType<typeof runTheirs>> | undefined
for (let r = 0; r < ROUNDS; r++) {
  const o = await runOurs()
  if (!best || o.ms < best.ms) best = o
  const t = await runTheirs()
  if (!bestTheirs || t.ms < bestTheirs.ms) bestTheirs = t
}
await encoder.close()
await extractor.dispose()
const { ms: oursMs, sessionMs, vectors: ours } = best as NonNullable<typeof best>
const { ms: theirsMs, vectors: theirs } = bestTheirs as NonNullable<typeof bestTheirs>

const sims = ours.map((v, i) => cosine(v, theirs[i] as number[]))
const oursRate = texts.length / (oursMs / 1000)
const theirsRate = texts.length / (theirsMs / 1000)
process.stdout.write(
  `${JSON.stringify(
    {
      model: 'builtin:bge-small-shape (12 layers × 384, 30522 vocab)',
      texts: texts.length,
      wordsPerChunk: WORDS_PER_CHUNK,
      maxTokens: MAX_TOKENS,
      batchSize: BATCH,
      threads: THREADS,
      rounds: ROUNDS,
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
      provider: encoder.provider,
      embedform: {
        textsPerSecond: round(oursRate),
        seconds: round(oursMs / 1000, 2),
        sessionRunSeconds: round(sessionMs / 1000, 2),
        pipelineOverheadPct: round((100 * (oursMs - sessionMs)) / oursMs, 2),
      },
      transformersjs: { textsPerSecond: round(theirsRate), seconds: round(theirsMs / 1000, 2) },
      ratio: round(oursRate / theirsRate, 2),
      minCosineVsTransformersjs: round(Math.min(...sims), 6),
      peakRssMiB: peakRssMiB(),
    },
    null,
    2,
  )}\n`,
)
