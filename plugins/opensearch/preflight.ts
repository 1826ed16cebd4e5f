/**
 * Preflight for OpenSearch: what apply needs from the mapping, read before anything is created.
 * The key must be a sortable field (paging sorts on it: a `text` field is refused by the cluster),
 * the text fields must be mapped, and the vector field, when present, must be a knn_vector.
 * Read-only: one GET of the mapping.
 */
import { closest } from '../../src/config/suggest.js'
import type { Collection } from '../../src/core/types.js'
import type { PreflightDesired, PreflightProblem } from '../../src/store/adapter.js'
import { enc, type Json, type OsHttp } from './http.js'
import { textFields } from './text.js'

/** Field types search_after can sort on without fielddata. */
const SORTABLE = new Set(['keyword', 'long', 'integer', 'short', 'byte', 'unsigned_long', 'double', 'float', 'half_float', 'scaled_float', 'date', 'date_nanos', 'ip', 'boolean'])

interface Field {
  type: string
  /** Multi-fields, e.g. `{ keyword: { type: 'keyword' } }` under a text field. */
  fields?: Record<string, Json>
}

/** `a.b.c` through object properties and multi-fields (`title.keyword`). */
function lookup(properties: Json, path: string): Field | undefined {
  let props: Json | undefined = properties
  let field: Json | undefined
  for (const name of path.split('.')) {
    field = (props?.[name] ?? field?.fields?.[name]) as Json | undefined
    if (!field) return undefined
    props = field.properties as Json | undefined
  }
  if (!field) return undefined
  return { type: String(field.type ?? (field.properties ? 'object' : 'unknown')), ...(field.fields ? { fields: field.fields as Record<string, Json> } : {}) }
}

export async function preflight(http: OsHttp, c: Collection, _desired: PreflightDesired): Promise<PreflightProblem[]> {
  const r = await http.request({ method: 'GET', path: `/${enc(c.target)}/_mapping`, accept: [404] })
  if (r.status === 404) {
    return [{
      code: 'E_COLLECTION_MISSING',
      severity: 'error',
      message: `no index or alias named ${c.target} exists`,
      object: `alias ${c.target}`,
      hint: `create the index first, or fix collections.${c.name}.target`,
    }]
  }
  const problems = new Map<string, PreflightProblem>()
  const add = (p: PreflightProblem) => problems.set(`${p.code} ${p.object}`, p)
  for (const [index, entry] of Object.entries(r.body as Json)) {
    const mappings = ((entry as Json).mappings ?? {}) as Json
    const properties = (mappings.properties ?? {}) as Json
    const names = Object.keys(properties)
    const key = lookup(properties, c.key)
    if (!key) {
      const similar = closest(c.key, names)
      add({
        code: 'E_PREFLIGHT_KEY_MISSING',
        severity: 'error',
        message: `key field "${c.key}" is not mapped in index ${index}: embedform pages through the collection sorted on it`,
        object: `field ${index}.${c.key}`,
        hint: similar ? `did you mean "${similar}"? Field names are case-sensitive: set \`key: ${similar}\` in collections.${c.name}` : `set collections.${c.name}.key to a unique keyword field`,
      })
    } else if (!SORTABLE.has(key.type)) {
      const keyword = Object.entries(key.fields ?? {}).find(([, f]) => f.type === 'keyword')?.[0]
      add({
        code: 'E_PREFLIGHT_KEY_NOT_SORTABLE',
        severity: 'error',
        message: `key field "${c.key}" of index ${index} is ${key.type}, which OpenSearch cannot sort on: embedform pages through the collection sorted on its key`,
        object: `field ${index}.${c.key}`,
        hint: keyword
          ? `set \`key: ${c.key}.${keyword}\` in collections.${c.name} (its keyword sub-field sorts)`
          : `map "${c.key}" as keyword (a new index with \`"${c.key}": { "type": "keyword" }\`, then a reindex), or point collections.${c.name}.key at a keyword field`,
      })
    }
    // With dynamic mapping off, a field may live in _source without being mapped: only a warning then.
    const unmappedIsError = mappings.dynamic === undefined || mappings.dynamic === true || mappings.dynamic === 'true' || mappings.dynamic === 'strict'
    for (const field of textFields(c.text)) {
      if (lookup(properties, field)) continue
      const similar = names.find((n) => n.toLowerCase() === field.toLowerCase()) ?? closest(field, names)
      add({
        code: 'E_PREFLIGHT_TEXT_COLUMN',
        severity: unmappedIsError ? 'error' : 'warning',
        message: `text field "${field}" is not mapped in index ${index}`,
        object: `field ${index}.${field}`,
        hint: similar ? `did you mean "${similar}"? Field names are case-sensitive: fix collections.${c.name}.text` : `use mapped fields in collections.${c.name}.text: ${names.join(', ')}`,
      })
    }
    const vector = lookup(properties, c.vector)
    if (vector && vector.type !== 'knn_vector') {
      add({
        code: 'E_PREFLIGHT_VECTOR_TYPE',
        severity: 'error',
        message: `vector field "${c.vector}" of index ${index} is ${vector.type}, not a knn_vector`,
        object: `field ${index}.${c.vector}`,
        hint: `set collections.${c.name}.vector to the knn_vector field the application searches, or to a new field name (embedform maps it)`,
      })
    }
  }
  return [...problems.values()]
}
