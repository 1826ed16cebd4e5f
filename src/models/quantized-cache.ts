import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inputError } from '../core/errors.js'
import { modelsCacheDir } from '../util/paths.js'
import { processAlive } from './builtin.js'
import { convertToFp16, type Fp16Report } from './fp16.js'
import { quantizeModel, type QuantizeReport } from './quantize.js'

/** Bumped whenever a converter's output changes, so cached copies are rebuilt. */
export const QUANTIZER_VERSION = 1
export const FP16_CONVERTER_VERSION = 1
export const QUANTIZATION_MANIFEST = 'quantization.json'

/** The reduced-precision copies of a model: int8 (dynamic quantization, for CPUs) and fp16 (half precision, for GPUs). */
export type Quantization = 'int8' | 'fp16'
export const QUANTIZATIONS: readonly Quantization[] = ['int8', 'fp16']

const METHODS = { int8: 'int8-dynamic', fp16: 'fp16' } as const
const VERSIONS: Record<Quantization, number> = { int8: QUANTIZER_VERSION, fp16: FP16_CONVERTER_VERSION }

export type QuantizationManifest = {
  quantizerVersion: number
  source: { path: string; sha256: string; bytes: number }
  onnx: { file: string; sha256: string; bytes: number }
  builtAt: string
  buildMs: number
} & ({ method: 'int8-dynamic'; report: QuantizeReport } | { method: 'fp16'; report: Fp16Report })

export interface QuantizedFile {
  path: string
  manifest: QuantizationManifest
  /** False when an up-to-date quantized model was already cached. */
  built: boolean
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Where the int8/fp16 copy of a source with this content hash lives: content-addressed, so any path to the same file shares it. */
export function quantizedDir(sourceSha256: string, env: NodeJS.ProcessEnv = process.env, precision: Quantization = 'int8'): string {
  return join(modelsCacheDir(env), precision, sourceSha256.slice(0, 24))
}

async function readQuantizationManifest(dir: string, precision: Quantization): Promise<QuantizationManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, QUANTIZATION_MANIFEST), 'utf8')) as QuantizationManifest
    if (m.method !== METHODS[precision] || m.quantizerVersion !== VERSIONS[precision]) return undefined
    return (await stat(join(dir, m.onnx.file))).size === m.onnx.bytes ? m : undefined
  } catch {
    return undefined
  }
}

/** Quantizations under way in this process, by target: concurrent opens of one model quantize it once. */
const inFlight = new Map<string, Promise<QuantizedFile>>()

export interface EnsureQuantizedOptions {
  /** int8 (default) or fp16. */
  precision?: Quantization
  env?: NodeJS.ProcessEnv
  force?: boolean
  log?: (m: string) => void
  outFile?: string
}

/**
 * The int8 (or fp16) version of the ONNX model at `sourcePath`, made on first use and cached like a
 * built model. Writes go to temporary files renamed into place (manifest last), so concurrent
 * processes at worst convert twice and never read a partial file.
 */
export async function ensureQuantized(sourcePath: string, opts: EnsureQuantizedOptions = {}): Promise<QuantizedFile> {
  const key = `${opts.precision ?? 'int8'}\0${opts.outFile ?? modelsCacheDir(opts.env)}\0${sourcePath}\0${opts.force === true}`
  const running = inFlight.get(key)
  if (running) return running
  const job = quantizeOnce(sourcePath, opts).finally(() => inFlight.delete(key))
  inFlight.set(key, job)
  return job
}

async function quantizeOnce(sourcePath: string, opts: EnsureQuantizedOptions): Promise<QuantizedFile> {
  const precision = opts.precision ?? 'int8'
  const started = Date.now()
  const sourceSha256 = await sha256Of(sourcePath).catch((cause: Error) => {
    throw inputError('E_MODEL_FILE', `cannot read ${sourcePath}: ${cause.message}`, { location: { file: sourcePath }, cause })
  })
  const dir = opts.outFile ? undefined : quantizedDir(sourceSha256, opts.env, precision)
  if (dir && !opts.force) {
    const manifest = await readQuantizationManifest(dir, precision)
    if (manifest) return { path: join(dir, manifest.onnx.file), manifest, built: false }
  }
  opts.log?.(`${precision === 'int8' ? 'quantizing' : 'converting'} ${sourcePath} to ${precision}`)
  const bytes = await readFile(sourcePath)
  const converted =
    precision === 'int8'
      ? { method: METHODS.int8, ...quantizeModel(bytes, { file: sourcePath, sourceSha256 }) }
      : { method: METHODS.fp16, ...convertToFp16(bytes, { file: sourcePath, sourceSha256 }) }
  const { chunks, report } = converted
  const hash = createHash('sha256')
  for (const c of chunks) hash.update(c)
  const target = opts.outFile ?? join(dir as string, 'model.onnx')
  const targetDir = opts.outFile ? join(target, '..') : (dir as string)
  await mkdir(targetDir, { recursive: true })
  await removeAbandoned(targetDir)
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await writeFile(tmp, chunks)
    await rename(tmp, target)
  } catch (cause) {
    await rm(tmp, { force: true })
    throw cause
  }
  const common = {
    quantizerVersion: VERSIONS[precision],
    source: { path: sourcePath, sha256: sourceSha256, bytes: bytes.length },
    onnx: { file: opts.outFile ? target : 'model.onnx', sha256: hash.digest('hex'), bytes: report.bytesOut },
    builtAt: new Date().toISOString(),
    buildMs: Date.now() - started,
  }
  const manifest: QuantizationManifest =
    converted.method === 'fp16' ? { ...common, method: 'fp16', report: converted.report } : { ...common, method: 'int8-dynamic', report: converted.report }
  if (dir) {
    const tmpManifest = join(dir, `${QUANTIZATION_MANIFEST}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
    await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`)
    await rename(tmpManifest, join(dir, QUANTIZATION_MANIFEST))
  }
  return { path: target, manifest, built: true }
}

/** Temporary files of a conversion whose process died (killed mid-write); those of live processes are left alone. */
async function removeAbandoned(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    const pid = Number(/\.tmp-(\d+)-[0-9a-f]+$/.exec(entry)?.[1])
    if (pid && !processAlive(pid)) await rm(join(dir, entry), { force: true })
  }
}
