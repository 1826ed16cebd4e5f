/**
 * The k-NN plugin's checks of a knn_vector mapping at index creation, by the version the index
 * is created on. Written from the plugin's mapper and method resolvers, independently of the
 * adapter's own copy of the rules, so a rule the adapter gets wrong fails a test.
 */
import { OsError } from './errors.js'
import type { KnnField } from './query.js'

type Json = Record<string, unknown>
export type Version = [number, number, number]

const onOrAfter = (v: Version, major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor)

function refuse(index: string, reason: string): never {
  throw new OsError(400, 'mapper_parsing_exception', reason, index)
}

function validation(index: string, errors: string[]): void {
  if (errors.length > 0) throw new OsError(400, 'mapper_parsing_exception', `Validation Failed: ${errors.map((e, i) => `${i + 1}: ${e};`).join('')}`, index)
}

export function knnField(index: string, field: string, m: Json, settings: Record<string, string>, version: Version): KnnField {
  const dim = Number(m.dimension)
  if (!Number.isInteger(dim) || dim < 1 || dim > 16_000) refuse(index, `Dimension value must be >= 1 and <= 16000 but is ${String(m.dimension)} for vector: ${field}`)
  if (settings.knn !== 'true') refuse(index, `index.knn setting must be true for knn_vector field [${field}]`)
  const method = (m.method ?? {}) as Json
  const params = (method.parameters ?? {}) as Json
  const topLevel = ['space_type', 'mode', 'compression_level'].filter((k) => m[k] !== undefined)
  if (!onOrAfter(version, 2, 17) && topLevel.length > 0) {
    if (topLevel.includes('mode') || topLevel.includes('compression_level')) refuse(index, 'Compression and mode can only be used on indices created on or after version 2.17.0')
    refuse(index, `unknown parameter [space_type] on mapper [${field}] of type [knn_vector]`)
  }
  const mode = m.mode as string | undefined
  const compression = m.compression_level as string | undefined
  const engine = String(method.engine ?? (compression === '4x' ? 'lucene' : 'faiss'))
  if (engine === 'nmslib' && onOrAfter(version, 3, 0)) {
    throw new OsError(400, 'illegal_argument_exception', 'nmslib engine is deprecated in OpenSearch and cannot be used for new index creation starting from version 3.0.0.', index)
  }
  const space = String(m.space_type ?? method.space_type ?? 'l2') as KnnField['spaceType']
  if (m.space_type !== undefined && method.space_type !== undefined && m.space_type !== method.space_type) {
    refuse(index, `Space type in "method" and top-level space type should be same or one of them should be defined`)
  }
  const errors: string[] = []
  if (engine === 'faiss' && space === 'cosinesimil' && !onOrAfter(version, 2, 19)) errors.push(`"faiss" engine does not support space type "cosinesimil"`)
  if (compression !== undefined) {
    const supported = engine === 'faiss' ? ['1x', '2x', '8x', '16x', '32x'] : ['1x', '4x', ...(onOrAfter(version, 3, 6) ? ['32x'] : [])]
    if (!supported.includes(compression)) errors.push(`"${engine}" does not support "${compression}" compression`)
    if (compression === '1x' && mode === 'on_disk') errors.push('Cannot specify "x1" compression level when using "on_disk" mode')
  }
  if (engine === 'lucene' && params.m !== undefined && Number(params.m) > 512) errors.push(`Parameter validation failed for MethodComponentContext parameter [m]: value must be <= 512`)
  if (engine === 'lucene' && params.ef_construction !== undefined && Number(params.ef_construction) > 3200) errors.push(`Parameter validation failed for MethodComponentContext parameter [ef_construction]: value must be <= 3200`)
  validation(index, errors)
  return { dimension: dim, spaceType: space }
}

/** Deprecation warnings the k-NN plugin logs for a mapping it accepts (sent as a `Warning` header). */
export function knnWarnings(m: Json, version: Version): string[] {
  return m.mode !== undefined && onOrAfter(version, 3, 8)
    ? ["The 'mode' parameter is deprecated starting with version 3.8.0. Mode is now derived from 'compression_level'. Explicitly setting 'mode' will be removed in a future release."]
    : []
}

export function zeroVectorRefused(field: KnnField, v: number[]): string | null {
  if (field.spaceType !== 'cosinesimil' || v.some((x) => x !== 0)) return null
  return 'zero vector is not supported when space type is [cosinesimil]'
}
