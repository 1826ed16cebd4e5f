/**
 * `embedform serve` under concurrent clients that each send one text per request, with
 * cross-request batching on and off (--no-batching: every request is its own encode call).
 * Runs the built CLI as the server (a separate process, as in production) on real email text —
 * subject lines by default (query-like: short, varied), or passages of BENCH_WORDS words
 * (BENCH_TEXTS=passages) — and on two builtin models at the two ends of the cost range:
 * - bert-tiny (2 layers × 32): per-call overhead dominates, as with small or static models;
 * - bge-small-shape (bge-small-en-v1.5's exact 12 × 384 shape): compute dominates, as on CPU
 *   with any real transformer.
 * Scenarios are interleaved (1, 8, 64 clients × on/off) so load from other processes drifts over
 * both modes alike. Prints one JSON object: texts/s, p50/p99 latency, mean texts per encode call,
 * and the speedup from batching at each concurrency — next to the ceiling any batching server has
 * on this machine: the encoder alone, in-process, in calls of 64 texts versus calls of one.
 *
 *   npm run build && npx vite-node bench/serve.ts
 *   BENCH_SECONDS=5 BENCH_CLIENTS=1,8,64 BENCH_WORDS=32 BENCH_MODELS=bert-tiny npx vite-node bench/serve.ts
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Profile } from '../src/core/types.js'
import { openEncoder, percentile } from '../src/encoder/index.js'
import { ensureBuiltinModel } from '../src/models/index.js'
import { loadPassages } from '../src/sample/spam-corpus.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,64').split(',').map(Number)
const WORDS = Number(process.env.BENCH_WORDS ?? 32)
const TEXT_KIND = process.env.BENCH_TEXTS ?? 'subjects'
/**
 * onnxruntime intra-op threads of the server. 1 by default: on a machine shared with other busy
 * processes, a multi-threaded session.run waits at every parallel op for a descheduled worker
 * thread, which punishes exactly the larger batches batching makes.
 */
const THREADS = Number(process.env.BENCH_THREADS ?? 1)
const MODELS = (process.env.BENCH_MODELS ?? 'bert-tiny,bge-small-shape').split(',')
const TARGET = { clients: 64, speedup: 3 }
const CLI = resolve(import.meta.dirname, '../bin/run.js')

const round = (n: number, d = 1) => Number(n.toFixed(d))

const passages = loadPassages({ limit: 4000, words: WORDS })
const texts = TEXT_KIND === 'passages' ? passages.map((p) => p.body) : [...new Set(passages.map((p) => p.title))]

/**
 * The encoder pads each of its sub-batches (profile batch_size texts, length-sorted) to its longest
 * text, so a moderate batch_size keeps one long text from padding many short ones.
 */
const SHAPES: Record<string, { dimensions: number; pooling: string; batchSize: number }> = {
  'bert-tiny': { dimensions: 32, pooling: 'mean', batchSize: 32 },
  'bge-small-shape': { dimensions: 384, pooling: 'cls', batchSize: 32 },
}

/** A project whose one profile is the model; the collection is never embedded (clients name the profile). */
async function project(model: string): Promise<string> {
  const shape = SHAPES[model]
  if (!shape) throw new Error(`BENCH_MODELS: unknown model ${model} (known: ${Object.keys(SHAPES).join(', ')})`)
  const modelDir = await ensureBuiltinModel(model, { log: (m) => process.stderr.write(`${m}\n`) })
  const dir = mkdtempSync(join(tmpdir(), 'embedform-bench-serve-'))
  mkdirSync(join(dir, 'profiles'))
  writeFileSync(
    join(dir, 'profiles', 'bench.yaml'),
    `model: { source: ${JSON.stringify(modelDir)} }
dimensions: ${shape.dimensions}
pooling: ${shape.pooling}
normalize: true
max_tokens: 512
batch_size: ${shape.batchSize}
threads: ${THREADS}
device: cpu
index:
  metric: cosine
  pgvector: { type: none }
`,
  )
  writeFileSync(
    join(dir, 'embedding.config.yaml'),
    `version: 1
profiles_dir: ./profiles
stores:
  main: { kind: pglite, path: "memory://" }
collections:
  docs: { store: main, table: docs, key: id, text: [body], vector: embedding, profile: bench }
`,
  )
  return dir
}

interface Server {
  child: ChildProcess
  url: string
}

async function startServer(dir: string, batching: boolean): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--config', join(dir, 'embedding.config.yaml'), ...(batching ? [] : ['--no-batching'])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  for await (const line of createInterface({ input: child.stdout! })) {
    const e = JSON.parse(line) as { type: string; url?: string }
    if (e.type === 'listening' && e.url) return { child, url: e.url }
  }
  throw new Error('the server exited before listening')
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r))
  s.child.kill('SIGTERM')
  await exited
}

/** Sum and count of a histogram in /metrics, to derive the mean over a scenario. */
async function histogram(url: string, name: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const sum = Number(new RegExp(`^${name}_sum(?:\\{\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  const count = Number(new RegExp(`^${name}_count(?:\\{\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  return { sum, count }
}

async function embed(url: string, text: string): Promise<void> {
  const r = await fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', input: text, encoding_format: 'base64' }),
  })
  const body = (await r.json()) as { data?: unknown[] }
  if (r.status !== 200 || body.data?.length !== 1) throw new Error(`HTTP ${r.status}: ${JSON.stringify(body).slice(0, 200)}`)
}

interface Scenario {
  textsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  meanTextsPerEncodeCall: number
}

/** `clients` loops, each sending one text per request back to back, for SECONDS. */
async function run(url: string, clients: number): Promise<Scenario> {
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const before = await histogram(url, 'embedform_serve_batch_size')
  const started = performance.now()
  const deadline = started + SECONDS * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const text = texts[next++ % texts.length] as string
        const t0 = performance.now()
        try {
          await embed(url, text)
          latencies.push(performance.now() - t0)
        } catch {
          errors++
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const after = await histogram(url, 'embedform_serve_batch_size')
  const calls = after.count - before.count
  return {
    textsPerSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    requests: latencies.length,
    errors,
    meanTextsPerEncodeCall: calls > 0 ? round((after.sum - before.sum) / calls, 2) : 0,
  }
}

/** texts/s of the encoder alone in calls of `size` texts, for SECONDS / 2. */
async function encoderRate(model: string, size: number): Promise<number> {
  const shape = SHAPES[model]!
  const profile: Profile = {
    name: 'bench',
    model: { source: await ensureBuiltinModel(model) },
    dimensions: shape.dimensions,
    pooling: shape.pooling as Profile['pooling'],
    normalize: true,
    zeroVectors: 'keep',
    maxTokens: 512,
    prefixes: { query: '', document: '' },
    device: 'cpu',
    batchSize: shape.batchSize,
    threads: THREADS,
    index: { metric: 'cosine', storage: 'vector', pgvector: { type: 'none', m: 16, efConstruction: 64 }, opensearch: { engine: 'faiss', m: 16, efConstruction: 64 } },
  }
  const encoder = await openEncoder(profile)
  try {
    await encoder.encode(texts.slice(0, size), 'document')
    let done = 0
    const started = performance.now()
    while (performance.now() - started < (SECONDS / 2) * 1000) {
      const at = (done * 7) % Math.max(1, texts.length - size)
      await encoder.encode(texts.slice(at, at + size), 'document')
      done += size
    }
    return round(done / ((performance.now() - started) / 1000))
  } finally {
    await encoder.close()
  }
}

/** Encoder alone, one call at a time: what batching can gain at most on this machine. */
async function encoderCeiling(model: string): Promise<{ singleTextsPerSecond: number; batch64TextsPerSecond: number; ratio: number }> {
  const single = await encoderRate(model, 1)
  const batched = await encoderRate(model, 64)
  return { singleTextsPerSecond: single, batch64TextsPerSecond: batched, ratio: round(batched / Math.max(single, 1e-9), 2) }
}

interface ModelResult {
  model: string
  batchSize: number
  encoderCeiling: { singleTextsPerSecond: number; batch64TextsPerSecond: number; ratio: number }
  results: { clients: number; batching: Scenario; noBatching: Scenario; speedup: number }[]
}

async function benchModel(model: string): Promise<ModelResult> {
  const ceiling = await encoderCeiling(model)
  const dir = await project(model)
  const batched = await startServer(dir, true)
  const alone = await startServer(dir, false)
  const results: ModelResult['results'] = []
  try {
    // Warm both: first session.run calls allocate arenas and are slow.
    for (const s of [batched, alone]) await Promise.all(texts.slice(0, 32).map((t) => embed(s.url, t)))
    for (const clients of CLIENTS) {
      const batching = await run(batched.url, clients)
      const noBatching = await run(alone.url, clients)
      results.push({ clients, batching, noBatching, speedup: round(batching.textsPerSecond / Math.max(noBatching.textsPerSecond, 1e-9), 2) })
      process.stderr.write(`${model}, ${clients} clients: ${batching.textsPerSecond} vs ${noBatching.textsPerSecond} texts/s\n`)
    }
  } finally {
    await Promise.all([stopServer(batched), stopServer(alone)])
    rmSync(dir, { recursive: true, force: true })
  }
  return { model: `builtin:${model}`, batchSize: SHAPES[model]!.batchSize, encoderCeiling: ceiling, results }
}

const loadBefore = loadavg()
const models: ModelResult[] = []
for (const m of MODELS) models.push(await benchModel(m))

console.log(
  JSON.stringify(
    {
      texts: TEXT_KIND === 'passages' ? `${texts.length} email passages of ${WORDS} words` : `${texts.length} distinct email subject lines`,
      threads: THREADS,
      secondsPerScenario: SECONDS,
      cpus: availableParallelism(),
      loadavg: { before: loadBefore.map((n) => round(n, 2)), after: loadavg().map((n) => round(n, 2)) },
      models: models.map((m) => {
        const at = m.results.find((r) => r.clients === TARGET.clients)
        return { ...m, target: { ...TARGET, measured: at?.speedup ?? null, met: at ? at.speedup >= TARGET.speedup : null } }
      }),
    },
    null,
    2,
  ),
)
