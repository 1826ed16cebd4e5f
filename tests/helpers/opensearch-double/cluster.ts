import { OsError, badRequest, notFound } from './errors.js'
import { compileQuery, fieldValue, type KnnField, type StoredDoc } from './query.js'

type Json = Record<string, unknown>

export interface IndexData {
  name: string
  mappings: { properties: Record<string, Json>; _meta?: Json }
  /** Flat settings without the `index.` prefix, values as strings (as GET _settings returns them). */
  settings: Record<string, string>
  docs: Map<string, StoredDoc>
  /** What searches see: the documents as of the last refresh. */
  visible: Map<string, StoredDoc>
  knnFields: Map<string, KnnField>
}

function flattenSettings(s: Json | undefined, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(s ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenSettings(v as Json, key))
    else if (v !== null && v !== undefined) out[key.replace(/^index\./, '')] = String(v)
  }
  return out
}

function knnFieldsOf(name: string, props: Record<string, Json>, settings: Record<string, string>): Map<string, KnnField> {
  const out = new Map<string, KnnField>()
  for (const [field, m] of Object.entries(props)) {
    if (m.type !== 'knn_vector') continue
    const dim = Number(m.dimension)
    if (!Number.isInteger(dim) || dim < 1 || dim > 16_000) {
      throw new OsError(400, 'mapper_parsing_exception', `Dimension value must be >= 1 and <= 16000 but is ${String(m.dimension)} for vector: ${field}`, name)
    }
    if (settings.knn !== 'true') throw new OsError(400, 'mapper_parsing_exception', `index.knn setting must be true for knn_vector field [${field}]`, name)
    const method = (m.method ?? {}) as Json
    const engine = String(method.engine ?? 'faiss')
    if (engine === 'nmslib') throw new OsError(400, 'mapper_parsing_exception', 'nmslib engine is deprecated in OpenSearch and cannot be used for new index creation', name)
    const space = String(m.space_type ?? method.space_type ?? 'l2') as KnnField['spaceType']
    out.set(field, { dimension: dim, spaceType: space })
  }
  return out
}

export interface Action {
  op: 'index' | 'create' | 'delete'
  index: string
  id: string
  source?: Json
  version?: number
  versionType?: string
  ifSeqNo?: number
}

/** In-memory cluster state: indices, aliases, point-in-time snapshots. */
export class Cluster {
  readonly indices = new Map<string, IndexData>()
  /** alias → index → is_write_index */
  readonly aliases = new Map<string, Map<string, boolean>>()
  readonly pits = new Map<string, { indices: string[]; docs: StoredDoc[]; knn: Map<string, KnnField> }>()
  private seq = 0
  private pitSeq = 0

  createIndex(name: string, body: Json): void {
    if (this.indices.has(name)) throw new OsError(400, 'resource_already_exists_exception', `index [${name}] already exists`, name)
    if (this.aliases.has(name)) throw new OsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], an alias with the same name already exists`, name)
    if (name !== name.toLowerCase() || name.startsWith('_')) throw new OsError(400, 'invalid_index_name_exception', `Invalid index name [${name}]`, name)
    const settings = flattenSettings(body.settings as Json)
    const mappings = (body.mappings ?? {}) as IndexData['mappings']
    const properties = mappings.properties ?? {}
    const knnFields = knnFieldsOf(name, properties, settings)
    const data: IndexData = { name, mappings: { properties, ...(mappings._meta ? { _meta: mappings._meta } : {}) }, settings, docs: new Map(), visible: new Map(), knnFields }
    this.indices.set(name, data)
    for (const [alias, spec] of Object.entries((body.aliases ?? {}) as Record<string, Json>)) this.addAlias(alias, name, spec.is_write_index === true)
  }

  deleteIndex(name: string): void {
    const targets = this.resolve(name)
    for (const t of targets) {
      this.indices.delete(t)
      for (const [alias, members] of this.aliases) {
        members.delete(t)
        if (members.size === 0) this.aliases.delete(alias)
      }
    }
  }

  index(name: string): IndexData {
    const d = this.indices.get(name)
    if (!d) throw notFound(name)
    return d
  }

  /** Index names an expression (index, alias, comma list) stands for. */
  resolve(expr: string): string[] {
    const out: string[] = []
    for (const part of expr.split(',')) {
      if (this.indices.has(part)) out.push(part)
      else if (this.aliases.has(part)) out.push(...(this.aliases.get(part) as Map<string, boolean>).keys())
      else throw notFound(part)
    }
    return out
  }

  /** Indices holding alias `name`; 404 like OpenSearch when no such alias exists. */
  resolveAliasOnly(name: string): string[] {
    const members = this.aliases.get(name)
    if (!members) throw new OsError(404, 'aliases_not_found_exception', `alias [${name}] missing`, name)
    return [...members.keys()]
  }

  /** Where a write to `name` lands: the index itself or the alias's write index. */
  writeTarget(name: string): IndexData {
    if (this.indices.has(name)) return this.index(name)
    const members = this.aliases.get(name)
    if (!members) throw notFound(name)
    const writable = [...members].filter(([, w]) => w).map(([i]) => i)
    const only = members.size === 1 ? [...members.keys()] : writable
    if (only.length !== 1) {
      throw badRequest('illegal_argument_exception', `no write index is defined for alias [${name}]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index`)
    }
    return this.index(only[0] as string)
  }

  updateSettings(expr: string, body: Json): void {
    const flat = flattenSettings(body)
    for (const name of this.resolve(expr)) {
      const idx = this.index(name)
      Object.assign(idx.settings, flat)
      if (this.autoRefresh(idx)) this.refresh(name)
    }
  }

  refresh(expr: string): void {
    for (const name of this.resolve(expr)) {
      const idx = this.index(name)
      idx.visible = new Map(idx.docs)
    }
  }

  private autoRefresh(idx: IndexData): boolean {
    // A real cluster refreshes every second; the double refreshes at once unless disabled.
    return idx.settings.refresh_interval !== '-1'
  }

  /** One document write with OpenSearch's versioning rules; returns the bulk/index item body. */
  write(a: Action): { status: number; body: Json } {
    const idx = this.writeTarget(a.index)
    if (idx.settings['blocks.write'] === 'true' || idx.settings['blocks.read_only'] === 'true') {
      const e = new OsError(403, 'cluster_block_exception', `index [${idx.name}] blocked by: [FORBIDDEN/8/index write (api)];`, idx.name)
      return { status: 403, body: { _index: idx.name, _id: a.id, status: 403, error: e.body().error } }
    }
    const current = idx.docs.get(a.id)
    const conflict = (reason: string) => ({
      status: 409,
      body: { _index: idx.name, _id: a.id, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${a.id}]: version conflict, ${reason}`, index: idx.name } },
    })
    if (a.op === 'create' && current) return conflict('document already exists (current version [' + current.version + '])')
    if (a.ifSeqNo !== undefined && (!current || current.seqNo !== a.ifSeqNo)) {
      return conflict(`required seqNo [${a.ifSeqNo}], current document has seqNo [${current?.seqNo ?? -2}]`)
    }
    let version = (current?.version ?? 0) + 1
    if (a.versionType === 'external_gte' || a.versionType === 'external') {
      const v = Number(a.version)
      const ok = !current || (a.versionType === 'external_gte' ? v >= current.version : v > current.version)
      if (!ok) return conflict(`current version [${current?.version}] is higher than the one provided [${v}]`)
      version = v
    }
    const seqNo = ++this.seq
    if (a.op === 'delete') {
      if (!current) return { status: 404, body: { _index: idx.name, _id: a.id, _version: version, result: 'not_found', status: 404, _seq_no: seqNo, _primary_term: 1 } }
      idx.docs.delete(a.id)
    } else {
      const source = a.source ?? {}
      for (const [field, f] of idx.knnFields) {
        const v = fieldValue(source, field)
        if (v === undefined || v === null) continue
        if (!Array.isArray(v) || v.length !== f.dimension || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
          const got = Array.isArray(v) ? v.length : typeof v
          return {
            status: 400,
            body: {
              _index: idx.name,
              _id: a.id,
              status: 400,
              error: { type: 'mapper_parsing_exception', reason: `failed to parse field [${field}] of type [knn_vector] in document with id '${a.id}'.`, caused_by: { type: 'illegal_argument_exception', reason: `Vector dimension mismatch. Expected: ${f.dimension}, Given: ${got}` } },
            },
          }
        }
      }
      idx.docs.set(a.id, { id: a.id, source, version, seqNo })
    }
    if (this.autoRefresh(idx)) idx.visible = new Map(idx.docs)
    const result = a.op === 'delete' ? 'deleted' : current ? 'updated' : 'created'
    return { status: result === 'created' ? 201 : 200, body: { _index: idx.name, _id: a.id, _version: version, result, _seq_no: seqNo, _primary_term: 1, status: result === 'created' ? 201 : 200 } }
  }

  get(expr: string, id: string): StoredDoc | undefined {
    const idx = this.writeTarget(expr)
    return idx.docs.get(id)
  }

  createPit(expr: string): string {
    const names = this.resolve(expr)
    const id = Buffer.from(`pit-${++this.pitSeq}`).toString('base64')
    const knn = new Map<string, KnnField>()
    const docs: StoredDoc[] = []
    for (const n of names) {
      const idx = this.index(n)
      for (const [f, k] of idx.knnFields) knn.set(f, k)
      docs.push(...idx.visible.values())
    }
    this.pits.set(id, { indices: names, docs, knn })
    return id
  }

  search(target: { expr?: string; pit?: string }, body: Json): Json {
    let docs: StoredDoc[]
    let knn: Map<string, KnnField>
    if (target.pit !== undefined) {
      const pit = this.pits.get(target.pit)
      if (!pit) throw new OsError(404, 'search_context_missing_exception', `No search context found for id [${target.pit}]`)
      docs = pit.docs
      knn = pit.knn
    } else {
      const names = this.resolve(target.expr ?? '_all')
      docs = names.flatMap((n) => [...this.index(n).visible.values()])
      knn = new Map(names.flatMap((n) => [...this.index(n).knnFields]))
    }
    const indexOf = new Map<StoredDoc, string>()
    if (target.pit === undefined) for (const n of this.resolve(target.expr ?? '_all')) for (const d of this.index(n).visible.values()) indexOf.set(d, n)
    const scorer = compileQuery(body.query as Json | undefined, { docs, knnFields: knn })
    let hits = docs.map((d) => ({ d, score: scorer(d) })).filter((h): h is { d: StoredDoc; score: number } => h.score !== null)
    const total = hits.length
    const sort = parseSort(body.sort)
    if (sort) {
      hits.sort((a, b) => compare(fieldValue(a.d.source, sort.field), fieldValue(b.d.source, sort.field)) * (sort.desc ? -1 : 1))
      const after = body.search_after as unknown[] | undefined
      if (after) {
        const cut = after[0]
        hits = hits.filter((h) => compare(fieldValue(h.d.source, sort.field), cut) * (sort.desc ? -1 : 1) > 0)
      }
    } else {
      hits.sort((a, b) => b.score - a.score)
    }
    const size = Number(body.size ?? 10)
    const page = hits.slice(0, size)
    return {
      took: 1,
      timed_out: false,
      ...(target.pit !== undefined ? { pit_id: target.pit } : {}),
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: {
        total: { value: total, relation: 'eq' },
        max_score: sort ? null : (page[0]?.score ?? null),
        hits: page.map((h) => ({
          _index: indexOf.get(h.d) ?? this.pits.get(target.pit ?? '')?.indices[0],
          _id: h.d.id,
          _score: sort ? null : h.score,
          ...(body._source === false ? {} : { _source: filterSource(h.d.source, body._source) }),
          ...(sort ? { sort: [fieldValue(h.d.source, sort.field)] } : {}),
        })),
      },
    }
  }

  count(expr: string, body: Json): number {
    const names = this.resolve(expr)
    const docs = names.flatMap((n) => [...this.index(n).visible.values()])
    const scorer = compileQuery(body.query as Json | undefined, { docs, knnFields: new Map(names.flatMap((n) => [...this.index(n).knnFields])) })
    return docs.filter((d) => scorer(d) !== null).length
  }

  addAlias(alias: string, index: string, isWrite: boolean): void {
    const members = this.aliases.get(alias) ?? new Map<string, boolean>()
    if (isWrite) for (const k of members.keys()) members.set(k, false)
    members.set(index, isWrite)
    this.aliases.set(alias, members)
  }

  /** All actions are validated against a copy first, then applied together, or none is. */
  updateAliases(actions: Json[]): void {
    const indices = new Set(this.indices.keys())
    const aliases = new Map([...this.aliases].map(([a, m]) => [a, new Map(m)]))
    // Like OpenSearch, remove_index goes first, so an alias can take the name of the index it replaces.
    const ordered = [...actions.filter((x) => 'remove_index' in x), ...actions.filter((x) => !('remove_index' in x))]
    for (const action of ordered) {
      const [op, raw] = Object.entries(action)[0] as [string, Json]
      const index = String(raw.index)
      if (!indices.has(index)) throw notFound(index)
      if (op === 'remove_index') {
        indices.delete(index)
        for (const [a, m] of aliases) {
          m.delete(index)
          if (m.size === 0) aliases.delete(a)
        }
      } else if (op === 'add') {
        const alias = String(raw.alias)
        if (indices.has(alias)) throw new OsError(400, 'invalid_alias_name_exception', `Invalid alias name [${alias}]: an index or data stream exists with the same name as the alias`, alias)
        const m = aliases.get(alias) ?? new Map<string, boolean>()
        if (raw.is_write_index === true) for (const k of m.keys()) m.set(k, false)
        m.set(index, raw.is_write_index === true)
        aliases.set(alias, m)
      } else if (op === 'remove') {
        const alias = String(raw.alias)
        const m = aliases.get(alias)
        if (!m?.has(index)) throw new OsError(404, 'aliases_not_found_exception', `aliases [${alias}] missing`, alias)
        m.delete(index)
        if (m.size === 0) aliases.delete(alias)
      } else {
        throw badRequest('illegal_argument_exception', `unknown alias action [${op}]`)
      }
    }
    for (const name of [...this.indices.keys()]) if (!indices.has(name)) this.indices.delete(name)
    this.aliases.clear()
    for (const [a, m] of aliases) this.aliases.set(a, m)
  }

  clone(source: string, target: string, body: Json): void {
    const src = this.index(source)
    if (src.settings['blocks.write'] !== 'true') {
      throw badRequest('illegal_state_exception', `index ${source} must be read-only to resize index. use "index.blocks.write=true"`)
    }
    this.createIndex(target, { settings: { ...src.settings, ...flattenSettings(body.settings as Json) }, mappings: src.mappings })
    const t = this.index(target)
    t.docs = new Map(src.docs)
    t.visible = new Map(src.docs)
  }
}

function parseSort(sort: unknown): { field: string; desc: boolean } | null {
  if (sort === undefined) return null
  const first = (Array.isArray(sort) ? sort[0] : sort) as string | Json
  if (typeof first === 'string') return { field: first, desc: false }
  const [field, spec] = Object.entries(first)[0] as [string, unknown]
  const order = typeof spec === 'string' ? spec : (spec as Json).order
  return { field, desc: order === 'desc' }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0
  if (a === undefined || a === null) return 1
  if (b === undefined || b === null) return -1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a) < String(b) ? -1 : 1
}

function filterSource(src: Json, spec: unknown): Json {
  if (spec === undefined || spec === true) return src
  const includes = Array.isArray(spec) ? (spec as string[]) : ((spec as Json).includes as string[] | undefined)
  const excludes = Array.isArray(spec) ? [] : (((spec as Json).excludes as string[] | undefined) ?? [])
  const out: Json = {}
  for (const [k, v] of Object.entries(src)) {
    if (includes && includes.length > 0 && !includes.includes(k)) continue
    if (excludes.includes(k)) continue
    out[k] = v
  }
  return out
}

export { filterSource }
