import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { failure } from '../../core/errors.js'
import type { Profile } from '../../core/types.js'
import { cosine } from '../pooling.js'
import type { RunResult, RunSpec, VariantId } from './variants.js'
import { defaultVariants, runVariant } from './variants.js'

/** Set in a child process: run the one variant described in it and print its result. */
export const BENCH_WORKER_ENV = 'EMBEDFORM_BENCH_WORKER'
const RESULT_PREFIX = 'embedform-bench-result '

export interface CompareOptions {
  profile: Profile
  texts: number
  words: number
  rounds: number
  variants?: readonly VariantId[]
  /** Arguments after `node` that re-run this program as a worker; default process.argv (right for the CLI). */
  workerArgs?: readonly string[]
  log?: (message: string) => void
}

interface Spread {
  min: number
  median: number
  max: number
}

export interface VariantSummary {
  textsPerSecond: Spread
  cpuSecondsPer1000Texts: number
  peakRssMiB: number
  provider: string
  batchesPerRun?: number
  paddedTokenWastePct?: number
  tokenBudget?: number | null
}

export interface CompareReport {
  model: string
  profile: string
  device: string
  threads: number
  batchSize: number
  maxTokens: number
  texts: number
  wordsPerChunk: number
  rounds: number
  machine: { cpus: number; cpuModel: string }
  /** 1-minute load average at the start of every run: other processes on the machine skew every number. */
  loadAverage1m: { min: number; median: number; max: number; end: number }
  variants: Partial<Record<VariantId, VariantSummary>>
  /** Per-round ratios of texts/s (A ÷ B measured back to back in the same round), min and median over rounds. */
  ratios: Record<string, { min: number; median: number }>
  quality: Record<string, { min: number; median: number; mean: number }>
  skipped: Partial<Record<VariantId, string>>
}

const round = (n: number, d = 2) => Number(n.toFixed(d))

export function spread(values: readonly number[], d = 1): Spread {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length / 2
  const median = s.length % 2 === 1 ? (s[Math.floor(mid)] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
  return { min: round(s[0] ?? 0, d), median: round(median, d), max: round(s[s.length - 1] ?? 0, d) }
}

/** Runs `spec` in a fresh process (this same program, re-invoked), so its CPU time and peak RSS are its own. */
export function runInChild(spec: RunSpec, workerArgs: readonly string[] = process.argv.slice(1)): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...workerArgs], {
      env: { ...process.env, [BENCH_WORKER_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX))
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as RunResult)
      else reject(failure('E_BENCH_RUN', `benchmark run ${spec.variant} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}

/** The child side: true when this process is a benchmark run (it then ran it and printed the result). */
export async function runBenchWorkerIfAsked(): Promise<boolean> {
  const raw = process.env[BENCH_WORKER_ENV]
  if (!raw) return false
  const result = await runVariant(JSON.parse(raw) as RunSpec)
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`)
  return true
}

async function hasTransformersJs(): Promise<boolean> {
  try {
    await import('@huggingface/transformers')
    return true
  } catch {
    return false
  }
}

async function readVectors(file: string, rows: number): Promise<Float32Array[]> {
  const bytes = await readFile(file)
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
  const width = all.length / rows
  return Array.from({ length: rows }, (_, i) => all.subarray(i * width, (i + 1) * width))
}

const RATIOS: Record<string, [VariantId, VariantId]> = {
  'embedform-int8 / transformersjs-fp32-sorted': ['embedform-int8', 'transformersjs-fp32-sorted'],
  'embedform-int8 / transformersjs-int8-sorted': ['embedform-int8', 'transformersjs-int8-sorted'],
  'embedform-fp32 / transformersjs-fp32-sorted': ['embedform-fp32', 'transformersjs-fp32-sorted'],
  'embedform-fp32 / transformersjs-fp32-naive': ['embedform-fp32', 'transformersjs-fp32-naive'],
  'embedform-int8 / embedform-fp32': ['embedform-int8', 'embedform-fp32'],
  'token budget / count (fp32)': ['embedform-fp32', 'embedform-fp32-count'],
  'token budget / count (int8)': ['embedform-int8', 'embedform-int8-count'],
  'embedform-fp16 / embedform-fp32': ['embedform-fp16', 'embedform-fp32'],
  'embedform-fp16 / transformersjs-fp16-sorted': ['embedform-fp16', 'transformersjs-fp16-sorted'],
}

const QUALITY: Record<string, [VariantId, VariantId]> = {
  'cosine embedform-int8 vs embedform-fp32': ['embedform-int8', 'embedform-fp32'],
  'cosine transformersjs-fp32 vs embedform-fp32': ['transformersjs-fp32-sorted', 'embedform-fp32'],
  'cosine transformersjs-int8 vs embedform-int8': ['transformersjs-int8-sorted', 'embedform-int8'],
  'cosine embedform-fp16 vs embedform-fp32': ['embedform-fp16', 'embedform-fp32'],
  'cosine transformersjs-fp16 vs embedform-fp16': ['transformersjs-fp16-sorted', 'embedform-fp16'],
}

/**
 * Interleaved rounds: every round runs every variant once, in a rotated order, each in its own
 * process — so a burst of load from other processes hits all variants alike, and no variant
 * inherits another's warm caches or memory. Reports min/median/max, never a single best run.
 */
export async function compareEncoders(opts: CompareOptions): Promise<CompareReport> {
  const skipped: Partial<Record<VariantId, string>> = {}
  let variants = [...(opts.variants ?? defaultVariants(opts.profile.device))]
  if (variants.some((v) => v.startsWith('transformersjs')) && !(await hasTransformersJs())) {
    for (const v of variants.filter((x) => x.startsWith('transformersjs'))) skipped[v] = '@huggingface/transformers is not installed'
  }
  if (opts.profile.pooling === 'last-token') for (const v of variants.filter((x) => x.startsWith('transformersjs'))) skipped[v] = 'transformers.js has no last-token pooling'
  variants = variants.filter((v) => !skipped[v])

  const scratchDir = await mkdtemp(join(tmpdir(), 'embedform-bench-'))
  const runs = new Map<VariantId, RunResult[]>(variants.map((v) => [v, []]))
  try {
    for (let r = 0; r < opts.rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length] as VariantId)
      for (const variant of order) {
        opts.log?.(`round ${r + 1}/${opts.rounds}: ${variant} (load ${round(loadavg()[0] ?? 0)})`)
        const spec: RunSpec = { variant, profile: opts.profile, texts: opts.texts, words: opts.words, scratchDir, ...(r === 0 ? { vectorsFile: join(scratchDir, `${variant}.f32`) } : {}) }
        const result = await runInChild(spec, opts.workerArgs)
        runs.get(variant)?.push(result)
        opts.log?.(`  ${variant}: ${round(opts.texts / result.seconds, 1)} texts/s, ${round(result.cpuSeconds, 1)} CPU s, peak RSS ${result.peakRssMiB} MiB`)
      }
    }

    const summaries: Partial<Record<VariantId, VariantSummary>> = {}
    for (const [variant, list] of runs) {
      const first = list[0] as RunResult
      summaries[variant] = {
        textsPerSecond: spread(list.map((x) => opts.texts / x.seconds)),
        cpuSecondsPer1000Texts: round(spread(list.map((x) => (1000 * x.cpuSeconds) / opts.texts), 3).median, 3),
        peakRssMiB: Math.max(...list.map((x) => x.peakRssMiB)),
        provider: first.provider,
        ...(first.paddedTokens !== undefined
          ? {
              batchesPerRun: first.batches,
              paddedTokenWastePct: round(100 * (1 - (first.realTokens ?? 0) / Math.max(1, first.paddedTokens)), 1),
              tokenBudget: Number.isFinite(first.tokenBudget) ? (first.tokenBudget ?? null) : null,
            }
          : {}),
      }
    }

    const ratios: CompareReport['ratios'] = {}
    for (const [name, [a, b]] of Object.entries(RATIOS)) {
      const ra = runs.get(a)
      const rb = runs.get(b)
      if (!ra || !rb) continue
      const per = ra.map((x, i) => (rb[i] as RunResult).seconds / x.seconds)
      const s = spread(per, 2)
      ratios[name] = { min: s.min, median: s.median }
    }

    const quality: CompareReport['quality'] = {}
    for (const [name, [a, b]] of Object.entries(QUALITY)) {
      if (!runs.has(a) || !runs.has(b)) continue
      const [va, vb] = await Promise.all([readVectors(join(scratchDir, `${a}.f32`), opts.texts), readVectors(join(scratchDir, `${b}.f32`), opts.texts)])
      const sims = va.map((v, i) => cosine(v, vb[i] as Float32Array))
      const s = spread(sims, 6)
      quality[name] = { min: s.min, median: s.median, mean: round(sims.reduce((x, y) => x + y, 0) / sims.length, 6) }
    }

    const loads = [...runs.values()].flat().map((x) => x.loadAverage1m)
    const p = opts.profile
    return {
      model: p.model.source,
      profile: p.name,
      device: p.device,
      threads: p.threads ?? availableParallelism(),
      batchSize: p.batchSize,
      maxTokens: p.maxTokens,
      texts: opts.texts,
      wordsPerChunk: opts.words,
      rounds: opts.rounds,
      machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown' },
      loadAverage1m: { ...spread(loads, 2), end: round(loadavg()[0] ?? 0) },
      variants: summaries,
      ratios,
      quality,
      skipped,
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true })
  }
}
