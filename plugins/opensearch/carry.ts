/**
 * What a new generation takes over from the index the application reads now: every index
 * setting and mapping part the application depends on (analysis, ef_search, index sort, codec,
 * dynamic templates, _source excludes, _routing, ...), so a migration changes the vectors and
 * nothing else. Pure: works on the `GET /<index>` answer.
 */
import type { Json } from './http.js'

/** Settings that belong to one physical index (identity, history, state) and are never copied. */
const NOT_CARRIED = [
  /^uuid$/,
  /^creation_date/,
  /^version\./,
  /^provided_name$/,
  /^history_uuid$/,
  /^history\./,
  /^blocks\./,
  /^routing\.allocation\.initial_recovery\./,
  /^resize\./,
  /^shrink\./,
  /^verified_before_close$/,
  /^frozen$/,
  /^store\.snapshot\./,
  /^hidden$/,
  /^knn$/,
]

/** Restored by buildIndex after the bulk load (refresh -1 and 0 replicas meanwhile). */
export const RESTORED_AFTER_LOAD = ['refresh_interval', 'number_of_replicas'] as const

/** Flattens `{ index: { knn: { algo_param: { ef_search: 100 } } } }` to `{ 'knn.algo_param.ef_search': '100' }`. */
export function flatSettings(s: Json | undefined, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatSettings(v as Json, key))
    else if (v !== null && v !== undefined) out[key] = v
  }
  return out
}

export interface LiveIndex {
  /** `settings.index` as GET returns it (nested or flat). */
  settings: Json
  mappings: Json
}

export interface Carried {
  /** Flat index settings (without the `index.` prefix) the new generation is created with. */
  settings: Record<string, unknown>
  /** Mapping parts other than `properties` and `_meta` (dynamic, dynamic_templates, _source, _routing, ...). */
  mappingParts: Json
  /** The live index's field mappings, all of them. */
  properties: Json
  meta: Json | undefined
}

export function carriedFrom(live: LiveIndex): Carried {
  const flat = flatSettings(live.settings)
  const settings: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(flat)) {
    const key = k.replace(/^index\./, '')
    if (NOT_CARRIED.some((re) => re.test(key))) continue
    settings[key] = v
  }
  const { properties, _meta, ...mappingParts } = live.mappings as Json
  return { settings, mappingParts, properties: (properties ?? {}) as Json, meta: _meta as Json | undefined }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** One line per carried part that changes how the application's queries behave, for the plan. */
export function describeCarried(c: Carried, vectorField: string): string[] {
  const out: string[] = []
  const s = c.settings
  const pick = (re: RegExp) => Object.entries(s).filter(([k]) => re.test(k))
  for (const [k, v] of pick(/^knn\.algo_param\./)) out.push(`index.${k}=${show(v)}`)
  const sort = pick(/^sort\./)
  if (sort.length > 0) out.push(`index sort ${sort.map(([k, v]) => `${k.slice(5)}=${show(v)}`).join(' ')}`)
  for (const [k, v] of pick(/^(codec|similarity\.|routing_partition_size|default_pipeline|final_pipeline|max_result_window|mapping\.|query\.default_field|number_of_shards)/)) out.push(`index.${k}=${show(v)}`)
  const analysis = Object.keys(s).filter((k) => k.startsWith('analysis.'))
  if (analysis.length > 0) {
    const names = [...new Set(analysis.map((k) => k.split('.').slice(1, 3).join('.')))]
    out.push(`index.analysis: ${names.join(', ')}`)
  }
  const m = c.mappingParts
  if (m.dynamic !== undefined) out.push(`mapping dynamic=${show(m.dynamic)}`)
  if (Array.isArray(m.dynamic_templates) && m.dynamic_templates.length > 0) {
    out.push(`mapping dynamic_templates: ${(m.dynamic_templates as Json[]).map((t) => Object.keys(t)[0]).join(', ')}`)
  }
  if (m._source !== undefined) out.push(`mapping _source ${show(m._source)}`)
  if (m._routing !== undefined) out.push(`mapping _routing ${show(m._routing)}`)
  for (const k of Object.keys(m).filter((x) => !['dynamic', 'dynamic_templates', '_source', '_routing'].includes(x))) out.push(`mapping ${k}=${show(m[k])}`)
  const fields = Object.keys(c.properties).filter((f) => f !== vectorField && f !== 'embedform')
  if (fields.length > 0) out.push(`${fields.length} field mapping(s): ${fields.slice(0, 8).join(', ')}${fields.length > 8 ? ', ...' : ''}`)
  return out
}
