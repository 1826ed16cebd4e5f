import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { basename, join } from 'node:path'
import type { Device, Profile } from '../../core/types.js'
import { ensureQuantized, type Quantization } from '../../models/index.js'
import { loadPassages } from '../../sample/spam-corpus.js'
import { openEncoder } from '../index.js'
import type { SessionTuning } from '../providers.js'
import { resolveModel } from '../resolve-model.js'

/**
 * One way of encoding the benchmark corpus. embedform runs its own pipeline (length-sorted,
 * dynamically padded, batched by token budget or by count); transformers.js runs its
 * feature-extraction pipeline either as applications usually call it (batches in input order) or
 * handed the same texts sorted by length — the trick that gives most of embedform's own edge.
 */
export const VARIANTS = [
  'embedform-fp32',
  'embedform-fp32-count',
  'embedform-int8',
  'embedform-int8-count',
  'transformersjs-fp32-naive',
  'transformersjs-fp32-sorted',
  'transformersjs-int8-naive',
  'transformersjs-int8-sorted',
  'embedform-fp16',
  'transformersjs-fp16-sorted',
] as const
export type VariantId = (typeof VARIANTS)[number]

const isFp16 = (v: VariantId) => v.includes('fp16')

/**
 * What runs when no variants are named: fp16 only on a GPU, where half precision is computed
 * natively. On CPU onnxruntime runs fp16 graphs by casting to float32 around most ops, so fp16 is
 * slower than fp32 there and would only lengthen the run (name it in --variants to measure that).
 */
export function defaultVariants(device: Device): VariantId[] {
  return device.startsWith('cuda') ? [...VARIANTS] : VARIANTS.filter((v) => !isFp16(v))
}

export interface RunSpec {
  variant: VariantId
  /** The fp32 profile; int8 and fp16 variants add `model.quantize`. */
  profile: Profile
  texts: number
  words: number
  /** Write the vectors (float32, row after row) here, for the quality comparison. */
  vectorsFile?: string
  scratchDir: string
  /** Session options to try instead of the defaults (embedform variants only). */
  tuning?: Partial<SessionTuning>
}

export interface RunResult {
  variant: VariantId
  seconds: number
  /** User + system CPU of the whole process (every onnxruntime thread) while encoding. */
  cpuSeconds: number
  /** Peak resident set of this process: each run is its own process, so this is the variant's own. */
  peakRssMiB: number
  loadAverage1m: number
  provider: string
  batches?: number
  realTokens?: number
  paddedTokens?: number
  tokenBudget?: number
}

export function benchTexts(count: number, words: number): string[] {
  return loadPassages({ limit: count, words }).map((p) => `${p.title}\n${p.body}`)
}

/** Enough to create the session's kernels and arena; more would only lengthen every run. */
const WARMUP_TEXTS = 4

export const precisionOf = (v: VariantId): Quantization | 'fp32' => (v.includes('int8') ? 'int8' : isFp16(v) ? 'fp16' : 'fp32')

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const value = await work()
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return { value, seconds, cpuSeconds: (used.user + used.system) / 1e6 }
}

const peakRss = () => Number((process.resourceUsage().maxRSS / 1024).toFixed(1))

async function writeVectors(file: string | undefined, rows: ArrayLike<number>[]): Promise<void> {
  if (!file) return
  const width = rows[0]?.length ?? 0
  const out = new Float32Array(rows.length * width)
  rows.forEach((r, i) => out.set(Array.from(r), i * width))
  await writeFile(file, new Uint8Array(out.buffer))
}

/** Runs one variant in this process and measures it. */
export async function runVariant(spec: RunSpec): Promise<RunResult> {
  const texts = benchTexts(spec.texts, spec.words)
  const precision = precisionOf(spec.variant)
  const profile: Profile = precision === 'fp32' ? spec.profile : { ...spec.profile, model: { ...spec.profile.model, quantize: precision } }
  const load = loadavg()[0] ?? 0
  if (spec.variant.startsWith('embedform')) {
    const encoder = await openEncoder(profile, { ...(spec.variant.endsWith('-count') ? { tokenBudget: Number.POSITIVE_INFINITY } : {}), ...(spec.tuning ? { tuning: spec.tuning } : {}) })
    try {
      await encoder.encode(texts.slice(0, WARMUP_TEXTS), 'document')
      const before = encoder.stats
      const run = await timed(() => encoder.encode(texts, 'document'))
      const after = encoder.stats
      await writeVectors(spec.vectorsFile, run.value)
      return {
        variant: spec.variant,
        seconds: run.seconds,
        cpuSeconds: run.cpuSeconds,
        peakRssMiB: peakRss(),
        loadAverage1m: load,
        provider: encoder.provider,
        batches: after.batches - before.batches,
        realTokens: after.realTokens - before.realTokens,
        paddedTokens: after.paddedTokens - before.paddedTokens,
        tokenBudget: encoder.tokenBudget,
      }
    } finally {
      await encoder.close()
    }
  }
  return runTransformersJs(spec, texts, profile, load)
}

/** The file transformers.js loads for each dtype from a Hugging Face layout. */
const TRANSFORMERS_FILES = { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx', fp16: 'onnx/model_fp16.onnx' } as const
const TRANSFORMERS_DTYPES = { fp32: 'fp32', int8: 'q8', fp16: 'fp16' } as const

/**
 * transformers.js loads `onnx/model.onnx` (dtype fp32), `onnx/model_quantized.onnx` (q8) or
 * `onnx/model_fp16.onnx` (fp16) from a Hugging Face layout; a directory of links gives it exactly
 * the files embedform runs.
 */
async function transformersModelDir(spec: RunSpec, profile: Profile): Promise<string> {
  const fp32 = await resolveModel(spec.profile.model, { profileFile: profile.file })
  const precision = profile.model.quantize ?? 'fp32'
  const onnx = profile.model.quantize ? (await ensureQuantized(fp32.onnxPath, { precision: profile.model.quantize })).path : fp32.onnxPath
  const dir = join(spec.scratchDir, `transformersjs-${profile.model.quantize ?? 'fp32'}`, basename(fp32.dir))
  await mkdir(join(dir, 'onnx'), { recursive: true })
  const link = async (target: string, name: string) => symlink(target, join(dir, name)).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)))
  await link(fp32.tokenizerPath, 'tokenizer.json')
  if (fp32.tokenizerConfigPath) await link(fp32.tokenizerConfigPath, 'tokenizer_config.json')
  await link(join(fp32.dir, 'config.json'), 'config.json')
  await link(onnx, TRANSFORMERS_FILES[precision])
  return dir
}

async function runTransformersJs(spec: RunSpec, texts: string[], profile: Profile, load: number): Promise<RunResult> {
  const { env, pipeline } = await import('@huggingface/transformers')
  const dir = await transformersModelDir(spec, profile)
  env.allowRemoteModels = false
  env.localModelPath = `${join(dir, '..')}/`
  const device = profile.device === 'cpu' || profile.device === 'auto' ? 'cpu' : 'cuda'
  const threads = profile.threads ?? 1
  const extractor = await pipeline('feature-extraction', basename(dir), {
    dtype: TRANSFORMERS_DTYPES[profile.model.quantize ?? 'fp32'],
    device,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
  })
  const pooling = profile.pooling === 'cls' ? 'cls' : 'mean'
  const batch = profile.batchSize
  const prefixed = texts.map((t) => profile.prefixes.document + t)
  const encodeAll = async (): Promise<number[][]> => {
    const sorted = spec.variant.endsWith('-sorted')
    const order = prefixed.map((_, i) => i)
    if (sorted) order.sort((a, b) => (prefixed[a]?.length ?? 0) - (prefixed[b]?.length ?? 0) || a - b)
    const out = new Array<number[]>(prefixed.length)
    for (let i = 0; i < order.length; i += batch) {
      const ids = order.slice(i, i + batch)
      const result = await extractor(
        ids.map((k) => prefixed[k] as string),
        { pooling, normalize: profile.normalize },
      )
      ;(result.tolist() as number[][]).forEach((v, k) => {
        out[ids[k] as number] = v.slice(0, profile.dimensions)
      })
    }
    return out
  }
  try {
    await extractor(prefixed.slice(0, WARMUP_TEXTS), { pooling, normalize: profile.normalize })
    const run = await timed(encodeAll)
    await writeVectors(spec.vectorsFile, run.value)
    return { variant: spec.variant, seconds: run.seconds, cpuSeconds: run.cpuSeconds, peakRssMiB: peakRss(), loadAverage1m: load, provider: device }
  } finally {
    await extractor.dispose()
  }
}
