import { dirname, isAbsolute, resolve } from 'node:path'
import { inputError, type EmbedformError } from '../core/errors.js'
import type { Device, IndexSettings, ModelSource, Pooling, Profile, ZeroVectorPolicy } from '../core/types.js'
import { BUILTIN_MODELS } from '../models/index.js'
import type { ProfileView } from '../store/plugin.js'
import { findStorePlugin, indexSections } from '../store/registry.js'
import { isAbstractProfile, type ProfileFile } from './profile-files.js'
import type { OverrideLayer } from './overrides.js'
import { sourceLocation, unflatten, type Leaf, type Leaves, type ValueSource } from './sources.js'
import { closest, didYouMean } from './suggest.js'
import { locate } from './yaml-file.js'

const HF_SOURCE = /^hf:[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9_.-]+(@[A-Za-z0-9_./-]+)?$/

export interface ResolvedProfile {
  profile: Profile
  /** Every value of the merged profile (defaults included) with where it came from. */
  leaves: Leaves
}

/**
 * Applies `extends` (parent first), then the override layers (lowest first), then defaults, then
 * checks fields against each other. Errors point at the file position of the value at fault.
 */
export class ProfileResolver {
  private readonly merged = new Map<string, Leaves | EmbedformError[]>()

  /** `broken`: names of profile files that failed to parse or validate, and were reported as such. */
  constructor(
    private readonly files: Map<string, ProfileFile>,
    private readonly broken: ReadonlySet<string> = new Set(),
  ) {}

  names(): string[] {
    return [...this.files.keys()].filter((n) => !isAbstractProfile(n)).sort()
  }

  /**
   * `kinds`: store kinds of the collections using the profile; their plugins pick defaults that
   * depend on the store (pgvector stores more than 2,000 dims as halfvec). An empty error list
   * means the profile extends a broken file, whose own errors are the ones to report.
   */
  resolve(name: string, layers: OverrideLayer[] = [], kinds: string[] = []): ResolvedProfile | EmbedformError[] {
    const own = this.inherited(name, [])
    if (Array.isArray(own)) return own
    const leaves = new Map(own)
    for (const layer of layers) {
      for (const [path, leaf] of layer.leaves) {
        // A different model's file name and checksum would be wrong for the new one.
        if (path === 'model.source') for (const k of ['model.file', 'model.sha256']) leaves.delete(k)
        leaves.set(path, leaf)
      }
    }
    const file = this.files.get(name)!
    const missing = requiredErrors(file, leaves)
    if (missing.length > 0) return missing
    applyDefaults(leaves, kinds)
    const errors = crossFieldErrors(leaves)
    if (errors.length > 0) return errors
    return { profile: toProfile(file, leaves), leaves }
  }

  /** All file errors of every profile, including abstract ones, for `validate`. */
  fileErrors(): EmbedformError[] {
    return [...this.files.keys()].flatMap((n) => {
      const r = this.inherited(n, [])
      return Array.isArray(r) ? r : []
    })
  }

  private inherited(name: string, chain: string[]): Leaves | EmbedformError[] {
    const cached = this.merged.get(name)
    if (cached) return cached
    const file = this.files.get(name)!
    let result: Leaves | EmbedformError[]
    if (file.extends === undefined) result = new Map(file.leaves)
    else {
      const parentName = file.extends
      const at = locate(file.yf, ['extends'])
      if (parentName === name || chain.includes(parentName)) {
        const cycle = [...chain, name, parentName]
        return [inputError('E_EXTENDS_CYCLE', `extends cycle: ${cycle.slice(cycle.indexOf(parentName)).join(' → ')}`, { location: at, hint: 'remove `extends` from one profile in the cycle' })]
      }
      if (!this.files.has(parentName) && this.broken.has(parentName)) {
        // The parent's file errors are reported where they are; this profile fails with it, silently.
        result = []
      } else if (!this.files.has(parentName)) {
        result = [inputError('E_EXTENDS_MISSING', `profile "${name}" extends "${parentName}", which does not exist`, { location: at, hint: didYouMean(parentName, this.files.keys()) })]
      } else {
        const parent = this.inherited(parentName, [...chain, name])
        if (Array.isArray(parent)) {
          // Report the parent's own problems once, where they are; here only say why this profile fails.
          const ownCycle = parent.some((e) => e.code === 'E_EXTENDS_CYCLE')
          result = ownCycle || parent.length === 0
            ? parent
            : [inputError('E_EXTENDS_INVALID', `profile "${name}" extends "${parentName}", which is invalid`, { location: at, hint: `fix ${parentName} first` })]
        } else {
          result = new Map<string, Leaf>()
          for (const [path, leaf] of parent) result.set(path, { value: leaf.value, source: inheritedSource(leaf.source, parentName) })
          for (const [path, leaf] of file.leaves) result.set(path, leaf)
        }
      }
    }
    this.merged.set(name, result)
    return result
  }
}

function inheritedSource(s: ValueSource, parent: string): ValueSource {
  if (s.kind === 'file') return { kind: 'extends', profile: parent, file: s.file, line: s.line, column: s.column }
  return s
}

function requiredErrors(file: ProfileFile, leaves: Leaves): EmbedformError[] {
  const errors: EmbedformError[] = []
  const need = (path: string, what: string) => {
    if (!leaves.has(path)) {
      errors.push(
        inputError('E_PROFILE_REQUIRED', `profile "${file.name}" does not set \`${path}\` (${what})`, {
          location: { ...locate(file.yf, []), path },
          hint: file.extends ? `set it here or in ${file.extends}` : 'set it here, or `extends:` a profile that does',
        }),
      )
    }
  }
  need('model.source', 'the model to run')
  need('dimensions', 'output vector size')
  const hasReranker = [...leaves.keys()].some((k) => k.startsWith('reranker.'))
  if (hasReranker && leaves.get('reranker.enabled')?.value !== false) need('reranker.model.source', 'the cross-encoder model')
  const hasGate = [...leaves.keys()].some((k) => k.startsWith('gate.'))
  if (hasGate) {
    need('gate.metric', 'e.g. ndcg@10')
    need('gate.queries', 'queries file')
  }
  return errors
}

function applyDefaults(leaves: Leaves, kinds: string[]): void {
  const set = (path: string, value: unknown) => {
    if (!leaves.has(path)) leaves.set(path, { value, source: { kind: 'default' } })
  }
  const dims = leaves.get('dimensions')!.value as number
  set('pooling', 'mean')
  set('normalize', true)
  set('zero_vectors', 'keep')
  set('max_tokens', 512)
  set('prefixes.query', '')
  set('prefixes.document', '')
  set('device', 'auto')
  set('batch_size', 32)
  set('index.metric', 'cosine')
  const preferred = kinds.map((k) => findStorePlugin(k)?.index.defaultStorage?.(dims)).find((s) => s !== undefined)
  set('index.storage', preferred ?? 'vector')
  for (const [section, rules] of indexSections()) {
    for (const [key, value] of Object.entries(rules.defaults)) set(`index.${section}.${key}`, value)
  }
  if ([...leaves.keys()].some((k) => k.startsWith('reranker.'))) {
    set('reranker.enabled', true)
    set('reranker.top_k', 100)
    set('reranker.return_top_k', 10)
    set('reranker.batch_size', 32)
    set('reranker.max_tokens', 512)
  }
  if (leaves.has('gate.metric')) set('gate.max_drop', 0.02)
}

function crossFieldErrors(leaves: Leaves): EmbedformError[] {
  const errors: EmbedformError[] = []
  const get = <T>(path: string) => leaves.get(path)?.value as T
  const where = (path: string) => sourceLocation(leaves.get(path)?.source, path)

  for (const path of ['model.source', 'reranker.model.source']) {
    const source = get<string | undefined>(path)
    if (source === undefined) continue
    if (source.startsWith('hf:') && !HF_SOURCE.test(source)) {
      errors.push(inputError('E_MODEL_SOURCE', `"${source}" is not a Hugging Face source`, { location: where(path), hint: 'write hf:owner/name or hf:owner/name@revision' }))
    } else if (source.startsWith('builtin:') && !BUILTIN_MODELS.includes(source.slice(8))) {
      const near = closest(source.slice(8), BUILTIN_MODELS)
      errors.push(
        inputError('E_MODEL_BUILTIN', `unknown builtin model "${source}"`, {
          location: where(path),
          hint: near ? `did you mean \`builtin:${near}\`?` : `builtin models: ${BUILTIN_MODELS.join(', ')}`,
        }),
      )
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^(hf|builtin):/.test(source) && !/^[a-z]:[\\/]/i.test(source)) {
      errors.push(inputError('E_MODEL_SOURCE', `unknown model source scheme in "${source}"`, { location: where(path), hint: 'use hf:owner/name, builtin:NAME or a local directory' }))
    }
  }

  if (leaves.has('reranker.top_k') && get<number>('reranker.return_top_k') > get<number>('reranker.top_k')) {
    errors.push(
      inputError('E_RERANK_TOP_K', `reranker return_top_k ${get<number>('reranker.return_top_k')} is larger than top_k ${get<number>('reranker.top_k')}`, {
        location: where('reranker.return_top_k'),
        hint: 'the reranker can only return candidates it was given: make return_top_k ≤ top_k',
      }),
    )
  }
  return errors
}

/** Local model paths and gate files resolve against the file that declared them. */
function resolvePath(value: string, leaf: Leaf | undefined): string {
  const s = leaf?.source
  const base = s && (s.kind === 'file' || s.kind === 'extends') ? dirname(s.file) : process.cwd()
  return isAbsolute(value) ? value : resolve(base, value.replace(/^~(?=\/)/, process.env.HOME ?? '~'))
}

function modelFrom(raw: Record<string, unknown>, leaves: Leaves, prefix: string): ModelSource {
  const source = raw.source as string
  const local = !/^(hf|builtin):/.test(source)
  return {
    source: local ? resolvePath(source, leaves.get(`${prefix}.source`)) : source,
    ...(raw.file !== undefined ? { file: raw.file as string } : {}),
    ...(raw.sha256 !== undefined ? { sha256: raw.sha256 as string } : {}),
    ...(raw.quantize !== undefined ? { quantize: raw.quantize as 'int8' | 'fp16' } : {}),
  }
}

function toProfile(file: ProfileFile, leaves: Leaves): Profile {
  const r = unflatten(leaves) as Record<string, any>
  const idx = r.index
  const profile: Profile = {
    name: file.name,
    ...(file.description !== undefined ? { description: file.description } : {}),
    file: file.file,
    model: modelFrom(r.model, leaves, 'model'),
    dimensions: r.dimensions,
    pooling: r.pooling as Pooling,
    normalize: r.normalize,
    zeroVectors: r.zero_vectors as ZeroVectorPolicy,
    maxTokens: r.max_tokens,
    prefixes: { query: r.prefixes.query, document: r.prefixes.document },
    device: r.device as Device,
    batchSize: r.batch_size,
    ...(r.threads !== undefined ? { threads: r.threads } : {}),
    ...(r.throughput !== undefined ? { throughput: r.throughput } : {}),
    index: indexSettings(idx),
  }
  if (r.reranker && r.reranker.model) {
    profile.reranker = {
      enabled: r.reranker.enabled,
      model: modelFrom(r.reranker.model, leaves, 'reranker.model'),
      topK: r.reranker.top_k,
      returnTopK: r.reranker.return_top_k,
      batchSize: r.reranker.batch_size,
      maxTokens: r.reranker.max_tokens,
    }
  }
  if (r.gate) {
    profile.gate = {
      metric: r.gate.metric,
      queries: resolvePath(r.gate.queries, leaves.get('gate.queries')),
      ...(r.gate.qrels !== undefined ? { qrels: resolvePath(r.gate.qrels, leaves.get('gate.qrels')) } : {}),
      maxDrop: r.gate.max_drop,
    }
  }
  return profile
}

/** Every registered store's section, parsed into the shape its adapter reads. */
function indexSettings(idx: Record<string, any>): IndexSettings {
  const out: IndexSettings = { metric: idx.metric, storage: idx.storage } as IndexSettings
  for (const [section, rules] of indexSections()) out[section] = rules.parse(idx[section] ?? {})
  return out
}

/** One resolved profile as a store plugin reads it. */
export function profileView(name: string, leaves: Leaves): ProfileView {
  return {
    name,
    get: <T>(path: string) => leaves.get(path)?.value as T | undefined,
    has: (path) => leaves.has(path),
    isDefault: (path) => leaves.get(path)?.source.kind === 'default',
  }
}

/**
 * The profile checked against the rules of one collection's store. Errors point at the profile
 * value at fault and name the collection and store, because the same profile may suit another.
 */
export function storeProfileErrors(r: ResolvedProfile, collection: string, store: { name: string; kind: string }): EmbedformError[] {
  const plugin = findStorePlugin(store.kind)
  if (!plugin) return []
  return plugin.index.validate(profileView(r.profile.name, r.leaves)).map((p) =>
    inputError(p.code, `profile "${r.profile.name}" does not suit collection "${collection}" on store "${store.name}" (${store.kind}): ${p.message}`, {
      location: sourceLocation(r.leaves.get(p.path)?.source, p.path),
      ...(p.hint ? { hint: p.hint } : {}),
    }),
  )
}
