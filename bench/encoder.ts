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
 */
import { availableParallelism } from 'node:os'
import type { Device, Profile } from '../src/core/types.js'
import { compareEncoders, compareSessionOptions, parseVariants, runBenchWorkerIfAsked } from '../src/encoder/bench/index.js'

if (!(await runBenchWorkerIfAsked())) {
  const profile: Profile = {
    name: 'bench-bge-small-shape',
    model: { source: 'builtin:bge-small-shape' },
    dimensions: 384,
    pooling: 'cls',
    normalize: true,
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
  const texts = Number(process.env.BENCH_TEXTS ?? 400)
  const words = Number(process.env.BENCH_WORDS ?? 200)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const report =
    process.env.BENCH_MODE === 'session-options'
      ? await compareSessionOptions({
          profile: process.env.BENCH_QUANTIZE === 'int8' ? { ...profile, model: { ...profile.model, quantize: 'int8' } } : profile,
          texts,
          words,
          rounds,
          threads: profile.threads ?? availableParallelism(),
          log,
        })
      : await compareEncoders({
          profile,
          texts,
          words,
          rounds,
          ...(process.env.BENCH_VARIANTS ? { variants: parseVariants(process.env.BENCH_VARIANTS) } : {}),
          log,
        })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}
