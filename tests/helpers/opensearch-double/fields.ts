/** Field mappings in the double: dynamic mapping of new fields, and the sort rules that depend on types. */
import { OsError } from './errors.js'
import { fieldValue } from './query.js'

type Json = Record<string, unknown>

/** The mapping of a dotted path through object properties and multi-fields (`id.keyword`). */
export function lookup(properties: Record<string, Json>, path: string): Json | undefined {
  let props: Record<string, Json> | undefined = properties
  let found: Json | undefined
  for (const part of path.split('.')) {
    const next: Json | undefined = props?.[part] ?? ((found?.fields as Record<string, Json> | undefined)?.[part])
    if (!next) return undefined
    found = next
    props = next.properties as Record<string, Json> | undefined
  }
  return found
}

/** A value for a path: a multi-field (`id.keyword`) reads its parent's value. */
export function valueAt(source: Json, properties: Record<string, Json>, path: string): unknown {
  const direct = fieldValue(source, path)
  if (direct !== undefined) return direct
  const parent = path.split('.').slice(0, -1).join('.')
  const p = parent ? lookup(properties, parent) : undefined
  return p?.fields ? fieldValue(source, parent) : undefined
}

const SORTABLE = new Set(['keyword', 'constant_keyword', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long', 'date', 'date_nanos', 'boolean', 'ip', 'version'])

function shardFailure(index: string, type: string, reason: string): OsError {
  return new OsError(400, 'search_phase_execution_exception', 'all shards failed', undefined, [{ type, reason, index }])
}

/** OpenSearch refuses a sort on a text field (no fielddata) or on a field no index maps. */
export function checkSortable(indices: { name: string; properties: Record<string, Json> }[], field: string): void {
  if (field === '_score' || field === '_doc' || field === '_shard_doc' || field === '_id') return
  let mapped = false
  for (const idx of indices) {
    const m = lookup(idx.properties, field)
    if (!m) continue
    mapped = true
    const type = String(m.type ?? 'object')
    if (type === 'text' && m.fielddata !== true) {
      throw shardFailure(
        idx.name,
        'illegal_argument_exception',
        `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`,
      )
    }
    if (!SORTABLE.has(type) && type !== 'text') throw shardFailure(idx.name, 'illegal_argument_exception', `Can't sort on field [${field}] of type [${type}]`)
  }
  if (!mapped) throw shardFailure(indices[0]?.name ?? '', 'query_shard_exception', `No mapping found for [${field}] in order to sort on`)
}

const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/

function dynamicType(v: unknown): Json | null {
  if (v === null || v === undefined) return null
  if (Array.isArray(v)) return v.length > 0 ? dynamicType(v[0]) : null
  if (typeof v === 'boolean') return { type: 'boolean' }
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'long' } : { type: 'float' }
  if (typeof v === 'string') return DATE.test(v) ? { type: 'date' } : { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } }
  if (typeof v === 'object') return { properties: {} }
  return null
}

/**
 * Adds mappings for fields a document brings that the index does not map, as OpenSearch's
 * dynamic mapping does (strings become text + .keyword); `dynamic: strict` refuses them.
 */
export function mapDynamically(index: string, mappings: { properties: Record<string, Json>; dynamic?: unknown }, source: Json): void {
  const walk = (props: Record<string, Json>, doc: Json, dynamic: unknown, path: string) => {
    for (const [k, v] of Object.entries(doc)) {
      const full = path ? `${path}.${k}` : k
      let m = props[k]
      if (!m) {
        if (dynamic === false || dynamic === 'false') continue
        const t = dynamicType(v)
        if (!t) continue
        if (dynamic === 'strict') throw new OsError(400, 'strict_dynamic_mapping_exception', `mapping set to strict, dynamic introduction of [${k}] within [${path || '_doc'}] is not allowed`, index)
        props[k] = t
        m = t
      }
      if (m.properties && v && typeof v === 'object' && !Array.isArray(v)) walk(m.properties as Record<string, Json>, v as Json, m.dynamic ?? dynamic, full)
    }
  }
  walk(mappings.properties, source, mappings.dynamic, '')
}
