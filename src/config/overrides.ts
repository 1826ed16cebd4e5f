import { inputError, type EmbedformError } from '../core/errors.js'
import type { Device } from '../core/types.js'
import type { Leaf, ValueSource } from './sources.js'

/** Flag-level overrides; they beat EMBEDDING_* variables, which beat the YAML. */
export interface ProfileOverrides {
  profile?: string
  model?: string
  dimensions?: number
  device?: Device
  batchSize?: number
  rerankerEnabled?: boolean
  rerankTopK?: number
  returnTopK?: number
  rerankBatchSize?: number
}

type Field = Exclude<keyof ProfileOverrides, 'profile'>
type Parser = 'int' | 'bool' | 'device' | 'model'

/** Each override: the YAML key it sets, the variable users of the existing scripts know, the flag. */
export const OVERRIDES: readonly { field: Field; path: string; env: string; flag: string; parse: Parser }[] = [
  { field: 'model', path: 'model.source', env: 'EMBEDDING_MODEL', flag: '--model', parse: 'model' },
  { field: 'dimensions', path: 'dimensions', env: 'EMBEDDING_DIMENSIONS', flag: '--dimensions', parse: 'int' },
  { field: 'device', path: 'device', env: 'EMBEDDING_DEVICE', flag: '--device', parse: 'device' },
  { field: 'batchSize', path: 'batch_size', env: 'EMBEDDING_BATCH_SIZE', flag: '--batch-size', parse: 'int' },
  { field: 'rerankerEnabled', path: 'reranker.enabled', env: 'ENABLE_RERANKER', flag: '--reranker', parse: 'bool' },
  { field: 'rerankTopK', path: 'reranker.top_k', env: 'RERANK_TOP_K', flag: '--rerank-top-k', parse: 'int' },
  { field: 'returnTopK', path: 'reranker.return_top_k', env: 'RETURN_TOP_K', flag: '--return-top-k', parse: 'int' },
  { field: 'rerankBatchSize', path: 'reranker.batch_size', env: 'RERANK_BATCH_SIZE', flag: '--rerank-batch-size', parse: 'int' },
]

export const DEVICE_PATTERN = /^(auto|cpu|cuda|cuda:[0-9]+|webgpu)$/

/** The only runtime this tool has; EMBEDDING_PROVIDER is accepted for compatibility with the old scripts. */
export const PROVIDER = 'onnx'

export interface OverrideLayer {
  profile?: { name: string; source: ValueSource }
  /** YAML key path → value with its source. */
  leaves: Map<string, Leaf>
}

/** Reads EMBEDDING_* and reranker variables; bad values are input errors naming the variable. */
export function envOverrides(env: NodeJS.ProcessEnv): { layer: OverrideLayer; errors: EmbedformError[] } {
  const errors: EmbedformError[] = []
  const leaves = new Map<string, Leaf>()
  const provider = env.EMBEDDING_PROVIDER?.trim()
  if (provider && provider.toLowerCase() !== PROVIDER) {
    errors.push(
      inputError('E_ENV_VALUE', `EMBEDDING_PROVIDER=${provider} is not supported: embedform runs models locally with onnxruntime`, {
        location: { object: 'environment variable EMBEDDING_PROVIDER' },
        hint: `unset EMBEDDING_PROVIDER or set it to ${PROVIDER}`,
      }),
    )
  }
  for (const o of OVERRIDES) {
    const raw = env[o.env]?.trim()
    if (!raw) continue
    const parsed = parseValue(o.parse, raw)
    if (parsed === undefined) errors.push(badValue(o.path, `${o.env}=${raw}`, o.parse, { object: `environment variable ${o.env}` }))
    else leaves.set(o.path, { value: parsed, source: { kind: 'env', name: o.env } })
  }
  const profile = env.EMBEDDING_PROFILE?.trim()
  return { layer: { leaves, ...(profile ? { profile: { name: profile, source: { kind: 'env', name: 'EMBEDDING_PROFILE' } } } : {}) }, errors }
}

/** Flags arrive typed from oclif, but are checked here too so library callers get the same errors. */
export function flagOverrides(overrides: ProfileOverrides | undefined): { layer: OverrideLayer; errors: EmbedformError[] } {
  const errors: EmbedformError[] = []
  const leaves = new Map<string, Leaf>()
  for (const o of OVERRIDES) {
    const v = overrides?.[o.field]
    if (v === undefined) continue
    const parsed = parseValue(o.parse, String(v))
    if (parsed === undefined) errors.push(badValue(o.path, `${o.flag} ${String(v)}`, o.parse, { object: `flag ${o.flag}` }))
    else leaves.set(o.path, { value: parsed, source: { kind: 'flag', name: o.flag } })
  }
  const profile = overrides?.profile
  return { layer: { leaves, ...(profile ? { profile: { name: profile, source: { kind: 'flag', name: '--profile' } } } : {}) }, errors }
}

function parseValue(kind: Parser, raw: string): unknown {
  switch (kind) {
    case 'int':
      return /^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true
      if (/^(0|false|no|off)$/i.test(raw)) return false
      return undefined
    case 'device':
      return DEVICE_PATTERN.test(raw) ? raw : undefined
    case 'model':
      // The existing scripts take Hugging Face ids (`BAAI/bge-small-en-v1.5`); paths start with . / or ~.
      return /^[a-z]+:/.test(raw) || /^[./~]/.test(raw) ? raw : `hf:${raw}`
  }
}

function badValue(path: string, shown: string, kind: Parser, where: { object: string }): EmbedformError {
  const expected = { int: 'a positive integer', bool: 'true or false (1/0, yes/no)', device: 'auto, cpu, cuda, cuda:N or webgpu', model: 'a model source' }[kind]
  return inputError('E_OVERRIDE_VALUE', `${shown} is not valid: expected ${expected}`, { location: { path, ...where } })
}
