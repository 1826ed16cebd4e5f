/**
 * The k-NN plugin's rules for a knn_vector mapping, by the version of the cluster that creates
 * the index (read from the k-NN plugin's mapper and method resolvers). Checked before an index is
 * created and at plan time, so a profile the cluster would refuse never gets as far as apply.
 */
import type { OpenSearchIndexSettings } from './settings.js'

/** major.minor.patch of an OpenSearch distribution. */
export type ClusterVersion = readonly [number, number, number]

/**
 * The newest rules this file knows: what a profile is checked against when no cluster can be
 * asked (validate, or a plan without a reachable store).
 */
export const NEWEST_KNOWN: ClusterVersion = [3, 8, 0]

export function parseVersion(s: string): ClusterVersion | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null
}

export function atLeast(v: ClusterVersion, major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor)
}

export const versionText = (v: ClusterVersion) => v.join('.')

export interface KnnMappingInput {
  engine: OpenSearchIndexSettings['engine']
  spaceType: 'cosinesimil' | 'innerproduct' | 'l2'
  mode?: OpenSearchIndexSettings['mode']
  compressionLevel?: OpenSearchIndexSettings['compressionLevel']
  m: number
  efConstruction: number
}

export interface KnnRuleViolation {
  /** Profile key the problem is about, under `index.opensearch`. */
  key: 'engine' | 'space_type' | 'mode' | 'compression_level' | 'm' | 'ef_construction'
  message: string
  hint: string
}

const FAISS_COMPRESSION = ['1x', '2x', '8x', '16x', '32x']
const LUCENE_COMPRESSION = ['1x', '4x', '32x']
export const LUCENE_MAX_M = 512
export const LUCENE_MAX_EF_CONSTRUCTION = 3200

/** Every rule the mapping breaks on a cluster of version `v`; [] when the cluster accepts it. */
export function knnViolations(k: KnnMappingInput, v: ClusterVersion): KnnRuleViolation[] {
  const out: KnnRuleViolation[] = []
  const at = versionText(v)
  const quantized = k.mode !== undefined || k.compressionLevel !== undefined
  if (quantized && !atLeast(v, 2, 17)) {
    out.push({ key: k.mode !== undefined ? 'mode' : 'compression_level', message: `mode and compression_level need OpenSearch 2.17 or later; the cluster runs ${at}`, hint: 'remove mode and compression_level, or upgrade the cluster' })
  }
  if (k.engine === 'faiss' && k.spaceType === 'cosinesimil' && !atLeast(v, 2, 19)) {
    out.push({ key: 'space_type', message: `faiss supports space_type cosinesimil from OpenSearch 2.19; the cluster runs ${at}`, hint: 'use normalize: true (innerproduct), engine: lucene, or upgrade the cluster' })
  }
  if (k.compressionLevel !== undefined) {
    const allowed = k.engine === 'faiss' ? FAISS_COMPRESSION : LUCENE_COMPRESSION.filter((c) => c !== '32x' || atLeast(v, 3, 6))
    if (!allowed.includes(k.compressionLevel)) {
      out.push({
        key: 'compression_level',
        message: `engine ${k.engine} does not support compression_level ${k.compressionLevel} on OpenSearch ${at} (supported: ${allowed.join(', ')})`,
        hint: k.engine === 'lucene' && k.compressionLevel === '32x' ? 'lucene supports 32x from OpenSearch 3.6; use faiss or upgrade' : `use one of ${allowed.join(', ')}${k.engine === 'faiss' ? ', or engine: lucene for 4x' : ', or engine: faiss'}`,
      })
    }
    if (k.mode === 'on_disk' && k.compressionLevel === '1x') {
      out.push({ key: 'compression_level', message: 'compression_level 1x cannot be used with mode on_disk', hint: 'on_disk needs a compression above 1x (e.g. 32x), or use mode in_memory' })
    }
  }
  if (k.engine === 'lucene' && k.m > LUCENE_MAX_M) {
    out.push({ key: 'm', message: `engine lucene accepts m up to ${LUCENE_MAX_M}, the profile has ${k.m}`, hint: `lower m to ${LUCENE_MAX_M} or less` })
  }
  if (k.engine === 'lucene' && k.efConstruction > LUCENE_MAX_EF_CONSTRUCTION) {
    out.push({ key: 'ef_construction', message: `engine lucene accepts ef_construction up to ${LUCENE_MAX_EF_CONSTRUCTION}, the profile has ${k.efConstruction}`, hint: `lower ef_construction to ${LUCENE_MAX_EF_CONSTRUCTION} or less` })
  }
  return out
}

/** Advice that does not stop the index from being created. */
export function knnAdvice(k: KnnMappingInput, v: ClusterVersion): string[] {
  const out: string[] = []
  if (k.mode !== undefined && atLeast(v, 3, 8)) {
    out.push(`index.opensearch.mode is deprecated from OpenSearch 3.8 (the cluster runs ${versionText(v)}): the k-NN plugin derives it from compression_level (it still accepts mode and logs a deprecation); prefer compression_level alone`)
  }
  if (k.compressionLevel === undefined && k.mode === undefined && atLeast(v, 3, 8)) {
    out.push(`OpenSearch ${versionText(v)} quantizes to 32x when no compression_level is given; embedform sends compression_level 1x so vectors keep full precision (set compression_level in the profile to choose)`)
  }
  return out
}

/**
 * The mapping parameters to send: before 2.17 only the method form exists; from 3.8 a mapping
 * without mode or compression_level would be quantized to 32x, so full precision is explicit.
 */
export function knnMappingFields(k: KnnMappingInput, v: ClusterVersion): Record<string, unknown> {
  const method = { name: 'hnsw', engine: k.engine, parameters: { m: k.m, ef_construction: k.efConstruction } }
  if (!atLeast(v, 2, 17)) return { method: { ...method, space_type: k.spaceType } }
  const from38 = atLeast(v, 3, 8)
  return {
    space_type: k.spaceType,
    ...(k.mode !== undefined ? { mode: k.mode } : {}),
    ...(k.compressionLevel !== undefined ? { compression_level: k.compressionLevel } : from38 && k.mode === undefined ? { compression_level: '1x' } : {}),
    method,
  }
}
