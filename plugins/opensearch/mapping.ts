import { createHash } from 'node:crypto'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection, IndexSettings } from '../../src/core/types.js'
import type { OpenSearchIndexSettings } from './settings.js'
import type { GenerationSpec } from '../../src/store/adapter.js'
import type { Carried } from './carry.js'
import { RECORD_FIELD, RECORD_MAPPING } from './copies.js'
import type { Json } from './http.js'
import { knnMappingFields, type ClusterVersion, type KnnMappingInput } from './knn-rules.js'
import { textFields } from './text.js'

export type SpaceType = NonNullable<OpenSearchIndexSettings['spaceType']>

/** innerproduct equals cosine for unit vectors and skips the per-query normalization. */
export function spaceType(s: IndexSettings, normalized: boolean): SpaceType {
  if (s.opensearch.spaceType) return s.opensearch.spaceType
  if (s.metric === 'l2') return 'l2'
  if (s.metric === 'ip' || normalized) return 'innerproduct'
  return 'cosinesimil'
}

export function knnInput(s: IndexSettings, normalized: boolean): KnnMappingInput {
  const o = s.opensearch
  return {
    engine: o.engine,
    spaceType: spaceType(s, normalized),
    m: o.m,
    efConstruction: o.efConstruction,
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.compressionLevel ? { compressionLevel: o.compressionLevel } : {}),
  }
}

export function knnFieldMapping(spec: Pick<GenerationSpec, 'dimensions' | 'index' | 'normalized'>, version: ClusterVersion): Json {
  return { type: 'knn_vector', dimension: spec.dimensions, ...knnMappingFields(knnInput(spec.index, spec.normalized), version) }
}

/** What the planner compares: only the settings OpenSearch uses. */
export function osIndexSettingsHash(s: IndexSettings, normalized: boolean): string {
  const o = s.opensearch
  return createHash('sha256')
    .update(stableJson({ space: spaceType(s, normalized), engine: o.engine, mode: o.mode ?? null, compression: o.compressionLevel ?? null, m: o.m, ef: o.efConstruction }))
    .digest('hex')
    .slice(0, 16)
}

/** Human description of a live knn_vector mapping, e.g. `hnsw/faiss/innerproduct m=16 ef_construction=128`. */
export function describeKnn(m: Json | undefined): string {
  if (!m) return 'none'
  const method = (m.method ?? {}) as Json
  const p = (method.parameters ?? {}) as Json
  const params = Object.entries(p).map(([k, v]) => `${k}=${String(v)}`)
  return [`${method.name ?? 'hnsw'}/${method.engine ?? 'faiss'}/${m.space_type ?? method.space_type ?? 'l2'}`, ...params, ...(m.mode ? [`mode=${m.mode}`] : [])].join(' ')
}

/**
 * The new generation's mapping: the live index's mapping (fields, dynamic templates, _source,
 * _routing, ...) with only the vector field replaced and embedform's freshness record added,
 * so every other field the application queries keeps its type. Without a live index: the
 * collection's own fields.
 */
export function generationMapping(c: Collection, live: Carried | null, spec: GenerationSpec, version: ClusterVersion): Json {
  const properties: Json = live ? { ...live.properties } : defaultProperties(c)
  properties[c.vector] = knnFieldMapping(spec, version)
  properties[RECORD_FIELD] = RECORD_MAPPING
  const embedform = { collection: c.name, generation: spec.id, profile: spec.profile, fingerprint: spec.fingerprint, model: spec.model, dimensions: spec.dimensions }
  return { ...(live?.mappingParts ?? {}), _meta: { ...(live?.meta ?? {}), embedform }, properties }
}

function defaultProperties(c: Collection): Json {
  const props: Json = { [c.key]: { type: 'keyword' } }
  for (const f of textFields(c.text)) props[f] = { type: 'text' }
  if (c.updatedAt) props[c.updatedAt] = { type: 'date', format: 'strict_date_optional_time||epoch_millis' }
  return props
}

/**
 * OpenSearch's k-NN score back to the similarity pgvector reports (cosine similarity, inner
 * product, negative L2 distance), so scores mean the same thing on every store.
 */
export function similarityFromScore(space: SpaceType, score: number): number {
  if (space === 'cosinesimil') return 2 * score - 1
  if (space === 'innerproduct') return score >= 1 ? score - 1 : 1 - 1 / score
  return -Math.sqrt(Math.max(0, 1 / score - 1))
}
