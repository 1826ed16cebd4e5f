import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isAbsolute, join, resolve as resolvePath, dirname } from 'node:path'
import { inputError } from '../core/errors.js'
import type { ModelSource } from '../core/types.js'
import { ensureBuiltinModel, ensureQuantized } from '../models/index.js'
import { fetchHfFile } from './hf-download.js'
import { isHfSource, parseHfSource } from './hf-source.js'

export interface ResolvedModel {
  dir: string
  onnxPath: string
  tokenizerPath: string
  /** tokenizer_config.json when the model has one (pad token, model_max_length). */
  tokenizerConfigPath?: string
}

export interface ResolveOptions {
  offline?: boolean
  env?: NodeJS.ProcessEnv
  log?: (message: string) => void
  onDownload?: (file: string, done: number, total: number | undefined) => void
  /** File the source was written in: relative directories resolve against it, errors point at it. */
  profileFile?: string
  /** Key path of the source inside that file, e.g. `model.source` or `reranker.model.source`. */
  keyPath?: string
}

export const DEFAULT_ONNX_FILES = ['onnx/model.onnx', 'model.onnx'] as const
const OPTIONAL_FILES = ['config.json', 'tokenizer_config.json'] as const

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  )
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Turns a profile's model source into local files: a directory as is, `builtin:NAME` built on
 * demand, `hf:owner/name[@rev]` downloaded into the cache. The ONNX file is checked against a pinned
 * sha256 whatever the source, because the pin is part of the fingerprint.
 */
export async function resolveModel(model: ModelSource, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const where = { file: opts.profileFile, path: opts.keyPath ?? 'model.source' }
  const candidates = model.file ? [model.file] : [...DEFAULT_ONNX_FILES]
  let resolved: ResolvedModel
  if (isHfSource(model.source)) {
    const ref = parseHfSource(model.source, where)
    const fetchOpts = { offline: opts.offline, env: opts.env, onDownload: opts.onDownload, sha256: model.sha256 }
    const tokenizerPath = (await fetchHfFile(ref, 'tokenizer.json', true, { ...fetchOpts, sha256: undefined })) as string
    let onnxPath: string | undefined
    for (const [i, file] of candidates.entries()) {
      onnxPath = await fetchHfFile(ref, file, i === candidates.length - 1, fetchOpts)
      if (onnxPath) break
    }
    const optional: Record<string, string | undefined> = {}
    for (const file of OPTIONAL_FILES) optional[file] = await fetchHfFile(ref, file, false, { ...fetchOpts, sha256: undefined })
    resolved = { dir: dirname(tokenizerPath), onnxPath: onnxPath as string, tokenizerPath, tokenizerConfigPath: optional['tokenizer_config.json'] }
  } else {
    const dir = model.source.startsWith('builtin:')
      ? await ensureBuiltinModel(model.source.slice('builtin:'.length), { env: opts.env, log: opts.log })
      : isAbsolute(model.source)
        ? model.source
        : resolvePath(opts.profileFile ? dirname(opts.profileFile) : process.cwd(), model.source)
    resolved = await localModel(dir, candidates, where)
  }
  if (model.sha256) {
    const actual = await sha256File(resolved.onnxPath)
    if (actual !== model.sha256.toLowerCase()) {
      throw inputError('E_MODEL_INTEGRITY', `${resolved.onnxPath} has sha256 ${actual}, but the profile pins ${model.sha256}`, {
        location: { file: opts.profileFile, path: 'model.sha256' },
        hint: 'if the model changed on purpose, update `model.sha256` (this changes the fingerprint and re-embeds)',
      })
    }
  }
  // The pin is checked on the fp32 source; its int8/fp16 copy is derived from it deterministically.
  if (model.quantize) resolved = { ...resolved, onnxPath: (await ensureQuantized(resolved.onnxPath, { precision: model.quantize, env: opts.env, log: opts.log })).path }
  return resolved
}

async function localModel(dir: string, candidates: readonly string[], where: { file?: string; path: string }): Promise<ResolvedModel> {
  const tokenizerPath = join(dir, 'tokenizer.json')
  if (!(await isFile(tokenizerPath))) {
    throw inputError('E_MODEL_FILES', `model directory ${dir} has no tokenizer.json`, {
      location: where,
      hint: 'point `model.source` at a directory in the Hugging Face layout (tokenizer.json, onnx/model.onnx)',
    })
  }
  let onnxPath: string | undefined
  for (const file of candidates) {
    if (await isFile(join(dir, file))) {
      onnxPath = join(dir, file)
      break
    }
  }
  if (!onnxPath) {
    throw inputError('E_MODEL_FILES', `model directory ${dir} has no ${candidates.join(' or ')}`, {
      location: where,
      hint: 'export the model to ONNX (e.g. `optimum-cli export onnx`) or set `model.file` to the ONNX file inside the directory',
    })
  }
  const configPath = join(dir, 'tokenizer_config.json')
  return { dir, onnxPath, tokenizerPath, tokenizerConfigPath: (await isFile(configPath)) ? configPath : undefined }
}
