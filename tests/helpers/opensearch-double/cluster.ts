import { OsError, badRequest, notFound } from './errors.js'
import { checkSortable, mapDynamically, valueAt } from './fields.js'
import { knnField, knnWarnings, zeroVectorRefused, type Version } from './knn-mapping.js'
import { sliceFilter } from './slice.js'
import { compileQuery, fieldValue, type KnnField, type StoredDoc } from './query.js'

type Json = Record<string, unknown>

export interface Mappings {
  properties: Record<string, Json>
  _meta?: Json
  dynamic?: unknown
  [part: string]: unknown
}

export interface IndexData {
  name: string
  mappings: Mappings
  /** Flat settings without the `index.` prefix, values as strings (as GET _settings returns them). */
  settings: Record<string, string>
  /** Real time: what GET and mget read. */
  docs: Map<string, StoredDoc>
  /** What searches, counts and point-in-times see: the documents as of the last refresh. */
  visible: Map<string, StoredDoc>
  /** Writes since the last refresh, in order; a refresh (scheduled or explicit) makes them visible. */
  unrefreshed: { at: number; id: string; doc: StoredDoc | null }[]
  refreshedAt: number
  knnFields: Map<string, KnnField>
}

function flattenSettings(s: Json | undefined, prefix = ''): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(s ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenSettings(v as Json, key))
    else if (v !== undefined) out[key.replace(/^index\./, '')] = v === null ? null : String(v)
  }
  return out
}

/** `1s`, `500ms`, `2m` → ms; `-1` → never. OpenSearch's default is 1s. */
function intervalMs(v: string | undefined): number {
  if (v === undefined) return 1000
  if (v === '-1') return -1
  const m = /^(\d+)(ms|s|m)?$/.exec(v)
  if (!m) throw badRequest('illegal_argument_exception', `failed to parse setting [index.refresh_interval] with value [${v}] as a time value`)
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)
}

export interface Action {
  op: 'index' | 'create' | 'delete'
  index: string
  id: string
  source?: Json
  version?: number
  versionType?: string
  ifSeqNo?: number
  ifPrimaryTerm?: number
}

/** In-memory cluster state: indices, aliases, point-in-time snapshots. */
export class Cluster {
  readonly indices = new Map<string, IndexData>()
  /** alias → index → is_write_index */
  readonly aliases = new Map<string, Map<string, boolean>>()
  readonly pits = new Map<string, { indices: string[]; docs: StoredDoc[]; knn: Map<string, KnnField>; properties: { name: string; properties: Record<string, Json> }[] }>()
  /** Fault injection: index names whose creation is refused with this error. */
  readonly refuseCreation = new Map<string, { type: string; reason: string }>()
  /** Deprecation warnings of the last request, sent as `Warning` headers. */
  warnings: string[] = []
  private seq = 0
  private pitSeq = 0

  /** The OpenSearch version the double answers as; the k-NN rules follow it. */
  constructor(public version: Version = [3, 3, 0]) {}

  createIndex(name: string, body: Json): void {
    const refused = this.refuseCreation.get(name)
    if (refused) throw new OsError(400, refused.type, refused.reason, name)
    if (this.indices.has(name)) throw new OsError(400, 'resource_already_exists_exception', `index [${name}/uuid] already exists`, name)
    if (this.aliases.has(name)) throw new OsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], an alias with the same name already exists`, name)
    if (name !== name.toLowerCase() || name.startsWith('_')) throw new OsError(400, 'invalid_index_name_exception', `Invalid index name [${name}]`, name)
    const settings: Record<string, string> = {}
    for (const [k, v] of Object.entries(flattenSettings(body.settings as Json))) if (v !== null) settings[k] = v
    intervalMs(settings.refresh_interval)
    const mappings = { ...((body.mappings ?? {}) as Json), properties: ((body.mappings as Json | undefined)?.properties ?? {}) as Record<string, Json> } as Mappings
    const knnFields = new Map<string, KnnField>()
    for (const [field, m] of Object.entries(mappings.properties)) {
      if (m.type !== 'knn_vector') continue
      knnFields.set(field, knnField(name, field, m, settings, this.version))
      this.warnings.push(...knnWarnings(m, this.version))
    }
    const aliases = Object.entries((body.aliases ?? {}) as Record<string, Json>)
    for (const [alias, spec] of aliases) if (spec.is_write_index === true) this.checkOneWriteIndex(alias, new Map([...(this.aliases.get(alias) ?? []), [name, true]]))
    this.indices.set(name, { name, mappings, settings, docs: new Map(), visible: new Map(), unrefreshed: [], refreshedAt: Date.now(), knnFields })
    for (const [alias, spec] of aliases) this.addAlias(alias, name, spec.is_write_index === true)
  }

  /** DELETE /<name>: concrete indices only; naming an alias is refused. */
  deleteIndex(expr: string): void {
    const names: string[] = []
    for (const part of expr.split(',')) {
      if (this.aliases.has(part) && !this.indices.has(part)) {
        throw badRequest('illegal_argument_exception', `The provided expression [${part}] matches an alias, specify the corresponding concrete indices instead.`)
      }
      if (!this.indices.has(part)) throw notFound(part)
      names.push(part)
    }
    for (const t of names) {
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
    if (flat.refresh_interval) intervalMs(flat.refresh_interval)
    for (const name of this.resolve(expr)) {
      const idx = this.index(name)
      this.tick(idx)
      for (const [k, v] of Object.entries(flat)) {
        if (v === null) delete idx.settings[k]
        else idx.settings[k] = v
      }
      if ('refresh_interval' in flat) idx.refreshedAt = Date.now()
    }
  }

  /** PUT /<index>/_block/write: the block is in place once the call returns (no write is in flight in a single-threaded double). */
  addBlock(expr: string, block: string): Json {
    if (!['write', 'read', 'read_only', 'metadata'].includes(block)) throw badRequest('illegal_argument_exception', `No enum constant org.opensearch.cluster.metadata.IndexMetadata.APIBlock.${block.toUpperCase()}`)
    const names = this.resolve(expr)
    for (const n of names) this.index(n).settings[`blocks.${block}`] = 'true'
    return { acknowledged: true, shards_acknowledged: true, indices: names.map((name) => ({ name, blocked: true })) }
  }

  refresh(expr: string): void {
    for (const name of this.resolve(expr)) {
      const idx = this.index(name)
      for (const e of idx.unrefreshed) this.applyVisible(idx, e)
      idx.unrefreshed = []
      idx.refreshedAt = Date.now()
    }
  }

  private applyVisible(idx: IndexData, e: { id: string; doc: StoredDoc | null }): void {
    if (e.doc) idx.visible.set(e.id, e.doc)
    else idx.visible.delete(e.id)
  }

  /** The scheduled refreshes that have happened since the last look: each makes visible what was written before it. */
  private tick(idx: IndexData): void {
    const every = intervalMs(idx.settings.refresh_interval)
    if (every < 0) return
    const now = Date.now()
    const last = every === 0 ? now : idx.refreshedAt + Math.floor((now - idx.refreshedAt) / every) * every
    if (last <= idx.refreshedAt && every !== 0) return
    const keep: IndexData['unrefreshed'] = []
    for (const e of idx.unrefreshed) {
      if (e.at <= last) this.applyVisible(idx, e)
      else keep.push(e)
    }
    idx.unrefreshed = keep
    idx.refreshedAt = last
  }

  /** What a search sees in `name` now. */
  searchable(name: string): Map<string, StoredDoc> {
    const idx = this.index(name)
    this.tick(idx)
    return idx.visible
  }

  /** One document write with OpenSearch's versioning rules; returns the bulk/index item body. */
  write(a: Action): { status: number; body: Json } {
    // action.auto_create_index is true by default: a write to a missing index creates it, dynamically mapped.
    if (a.op !== 'delete' && !this.indices.has(a.index) && !this.aliases.has(a.index)) this.createIndex(a.index, {})
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
    const failed = (status: number, type: string, reason: string, cause?: Json) => ({ status, body: { _index: idx.name, _id: a.id, status, error: { type, reason, index: idx.name, ...(cause ? { caused_by: cause } : {}) } } })
    if (a.ifSeqNo !== undefined && !(Number(a.ifPrimaryTerm) > 0)) return failed(400, 'action_request_validation_exception', `Validation Failed: 1: ifSeqNo is set, but primary term is [${a.ifPrimaryTerm ?? 0}];`)
    if (a.versionType === 'external_gte' || a.versionType === 'external') {
      if (a.ifSeqNo !== undefined) return failed(400, 'action_request_validation_exception', 'Validation Failed: 1: compare and write operations can not be used with version type [EXTERNAL_GTE];')
      if (!(Number(a.version) >= 0)) return failed(400, 'action_request_validation_exception', `Validation Failed: 1: illegal version value [${a.version}] for version type [${a.versionType.toUpperCase()}];`)
    }
    if (a.op === 'create' && current) return conflict('document already exists (current version [' + current.version + '])')
    if (a.ifSeqNo !== undefined && (!current || current.seqNo !== a.ifSeqNo || Number(a.ifPrimaryTerm) !== 1)) {
      return conflict(`required seqNo [${a.ifSeqNo}], primary term [${a.ifPrimaryTerm}]. ${current ? `current document has seqNo [${current.seqNo}] and primary term [1]` : 'but no document was found'}`)
    }
    let version = (current?.version ?? 0) + 1
    if (a.versionType === 'external_gte' || a.versionType === 'external') {
      const v = Number(a.version)
      const ok = !current || (a.versionType === 'external_gte' ? v >= current.version : v > current.version)
      if (!ok) return conflict(`current version [${current?.version}] is higher than the one provided [${v}]`)
      version = v
    }
    if (a.op === 'delete') {
      if (!current) return { status: 404, body: { _index: idx.name, _id: a.id, _version: version, result: 'not_found', status: 404, _seq_no: this.seq, _primary_term: 1 } }
      idx.docs.delete(a.id)
      idx.unrefreshed.push({ at: Date.now(), id: a.id, doc: null })
    } else {
      const source = a.source ?? {}
      for (const [field, f] of idx.knnFields) {
        const v = fieldValue(source, field)
        if (v === undefined || v === null) continue
        const parse = `failed to parse field [${field}] of type [knn_vector] in document with id '${a.id}'. Preview of field's value: '${JSON.stringify(v).slice(0, 40)}'`
        if (!Array.isArray(v) || v.length !== f.dimension || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
          const got = Array.isArray(v) ? v.length : typeof v
          return failed(400, 'mapper_parsing_exception', parse, { type: 'illegal_argument_exception', reason: `Vector dimension mismatch. Expected: ${f.dimension}, Given: ${got}` })
        }
        const zero = zeroVectorRefused(f, v as number[])
        if (zero) return failed(400, 'mapper_parsing_exception', parse, { type: 'illegal_argument_exception', reason: zero })
      }
      try {
        mapDynamically(idx.name, idx.mappings, source)
      } catch (e) {
        if (!(e instanceof OsError)) throw e
        return failed(e.status, e.type, e.message)
      }
      const doc = { id: a.id, source, version, seqNo: ++this.seq }
      idx.docs.set(a.id, doc)
      idx.unrefreshed.push({ at: Date.now(), id: a.id, doc })
    }
    const result = a.op === 'delete' ? 'deleted' : current ? 'updated' : 'created'
    const seqNo = a.op === 'delete' ? ++this.seq : this.seq
    return { status: result === 'created' ? 201 : 200, body: { _index: idx.name, _id: a.id, _version: version, result, _seq_no: seqNo, _primary_term: 1, status: result === 'created' ? 201 : 200 } }
  }

  /** POST /<index>/_update/<id> with `doc`: a partial update merged into the current source. */
  update(expr: string, id: string, body: Json, cond: { ifSeqNo?: number; ifPrimaryTerm?: number }): { status: number; body: Json } {
    const idx = this.writeTarget(expr)
    const current = idx.docs.get(id)
    if (!current) return { status: 404, body: { error: { type: 'document_missing_exception', reason: `[${id}]: document missing`, index: idx.name }, status: 404 } }
    const merged = { ...current.source, ...((body.doc ?? {}) as Json) }
    return this.write({ op: 'index', index: idx.name, id, source: merged, ...cond })
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
      docs.push(...this.searchable(n).values())
    }
    this.pits.set(id, { indices: names, docs, knn, properties: names.map((n) => ({ name: n, properties: this.index(n).mappings.properties })) })
    return id
  }

  search(target: { expr?: string; pit?: string; scroll?: boolean }, body: Json): Json {
    let docs: StoredDoc[]
    let knn: Map<string, KnnField>
    let mapped: { name: string; properties: Record<string, Json> }[]
    const indexOf = new Map<StoredDoc, string>()
    if (target.pit !== undefined) {
      const pit = this.pits.get(target.pit)
      if (!pit) throw new OsError(404, 'search_context_missing_exception', `No search context found for id [${target.pit}]`)
      docs = pit.docs
      knn = pit.knn
      mapped = pit.properties
    } else {
      const names = this.resolve(target.expr ?? '_all')
      docs = []
      for (const n of names) {
        for (const d of this.searchable(n).values()) {
          docs.push(d)
          indexOf.set(d, n)
        }
      }
      knn = new Map(names.flatMap((n) => [...this.index(n).knnFields]))
      mapped = names.map((n) => ({ name: n, properties: this.index(n).mappings.properties }))
    }
    const names = target.pit !== undefined ? (this.pits.get(target.pit)?.indices ?? []) : this.resolve(target.expr ?? '_all')
    const inSlice = sliceFilter(body.slice, { pit: target.pit !== undefined, scroll: target.scroll === true, settings: names.map((n) => this.index(n).settings) })
    if (inSlice) docs = docs.filter((d) => inSlice(d.id))
    const props = Object.assign({}, ...mapped.map((m) => m.properties)) as Record<string, Json>
    const scorer = compileQuery(body.query as Json | undefined, { docs, knnFields: knn, properties: props })
    let hits = docs.map((d) => ({ d, score: scorer(d) })).filter((h): h is { d: StoredDoc; score: number } => h.score !== null)
    const total = hits.length
    const sort = parseSort(body.sort)
    if (sort) {
      checkSortable(mapped, sort.field)
      const value = (d: StoredDoc) => (sort.field === '_id' ? d.id : valueAt(d.source, props, sort.field))
      hits.sort((a, b) => compare(value(a.d), value(b.d)) * (sort.desc ? -1 : 1))
      const after = body.search_after as unknown[] | undefined
      if (after) {
        const cut = after[0]
        hits = hits.filter((h) => compare(value(h.d), cut) * (sort.desc ? -1 : 1) > 0)
      }
    } else {
      hits.sort((a, b) => b.score - a.score)
    }
    const size = Number(body.size ?? 10)
    const page = hits.slice(0, size)
    const aggs = (body.aggs ?? body.aggregations) as Record<string, Json> | undefined
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
          ...(sort ? { sort: [sort.field === '_id' ? h.d.id : valueAt(h.d.source, props, sort.field)] } : {}),
        })),
      },
      ...(aggs ? { aggregations: aggregate(aggs, hits.map((h) => h.d), props) } : {}),
    }
  }

  count(expr: string, body: Json): number {
    const names = this.resolve(expr)
    const docs = names.flatMap((n) => [...this.searchable(n).values()])
    const properties = Object.assign({}, ...names.map((n) => this.index(n).mappings.properties)) as Record<string, Json>
    const scorer = compileQuery(body.query as Json | undefined, { docs, knnFields: new Map(names.flatMap((n) => [...this.index(n).knnFields])), properties })
    return docs.filter((d) => scorer(d) !== null).length
  }

  private checkOneWriteIndex(alias: string, members: Map<string, boolean>): void {
    const writers = [...members].filter(([, w]) => w).map(([i]) => i)
    if (writers.length > 1) throw new OsError(400, 'illegal_state_exception', `alias [${alias}] has more than one write index [${writers.join(',')}]`)
  }

  addAlias(alias: string, index: string, isWrite: boolean): void {
    const members = this.aliases.get(alias) ?? new Map<string, boolean>()
    members.set(index, isWrite)
    this.checkOneWriteIndex(alias, members)
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
      if (!indices.has(index)) {
        if (aliases.has(index)) throw badRequest('illegal_argument_exception', `The provided expression [${index}] matches an alias, specify the corresponding concrete indices instead.`)
        throw notFound(index)
      }
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
    for (const [alias, m] of aliases) this.checkOneWriteIndex(alias, m)
    for (const name of [...this.indices.keys()]) if (!indices.has(name)) this.indices.delete(name)
    this.aliases.clear()
    for (const [al, m] of aliases) this.aliases.set(al, m)
  }

  clone(source: string, target: string, body: Json): void {
    const src = this.index(source)
    if (src.settings['blocks.write'] !== 'true') {
      throw badRequest('illegal_state_exception', `index ${source} must be read-only to resize index. use "index.blocks.write=true"`)
    }
    this.createIndex(target, { settings: { ...src.settings, ...(body.settings as Json | undefined) }, mappings: src.mappings })
    const t = this.index(target)
    t.docs = new Map(src.docs)
    t.visible = new Map(src.docs)
  }
}

function aggregate(aggs: Record<string, Json>, docs: StoredDoc[], props: Record<string, Json>): Json {
  const out: Json = {}
  for (const [name, spec] of Object.entries(aggs)) {
    const [kind, raw] = Object.entries(spec)[0] as [string, Json]
    if (kind !== 'max' && kind !== 'min') throw badRequest('parsing_exception', `the double does not implement aggregation [${kind}]`)
    const field = String(raw.field)
    const type = String((props[field] as Json | undefined)?.type ?? '')
    const values = docs
      .map((d) => fieldValue(d.source, field))
      .map((v) => (typeof v === 'number' ? v : typeof v === 'string' ? (/^-?\d+$/.test(v) ? Number(v) : Date.parse(v)) : NaN))
      .filter((v) => Number.isFinite(v))
    const value = values.length === 0 ? null : kind === 'max' ? Math.max(...values) : Math.min(...values)
    out[name] = { value, ...(value !== null && type.startsWith('date') ? { value_as_string: new Date(value).toISOString() } : {}) }
  }
  return out
}

function parseSort(sort: unknown): { field: string; desc: boolean } | null {
  if (sort === undefined) return null
  const first = (Array.isArray(sort) ? sort[0] : sort) as string | Json
  if (typeof first === 'string') return { field: first, desc: false }
  const [field, spec] = Object.entries(first)[0] as [string, unknown]
  const order = typeof spec === 'string' ? spec : (spec as Json).order
  return { field, desc: order === 'desc' }
}

function compare(x: unknown, y: unknown): number {
  if (x === y) return 0
  if (x === undefined || x === null) return 1
  if (y === undefined || y === null) return -1
  if (typeof x === 'number' && typeof y === 'number') return x - y
  return String(x) < String(y) ? -1 : 1
}

function matches(key: string, patterns: string[]): boolean {
  return patterns.some((p) => p === key || p === `${key}.*` || p.startsWith(`${key}.`) || (p.endsWith('*') && key.startsWith(p.slice(0, -1))))
}

/** `_source` filtering with includes/excludes of top-level fields (`a`, `a.*`). */
function filterSource(src: Json, spec: unknown): Json {
  if (spec === undefined || spec === true) return src
  const includes = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? (spec as string[]) : ((spec as Json).includes as string[] | undefined)
  const excludes = Array.isArray(spec) || typeof spec === 'string' ? [] : (((spec as Json).excludes as string[] | undefined) ?? [])
  const out: Json = {}
  for (const [k, v] of Object.entries(src)) {
    if (includes && includes.length > 0 && !matches(k, includes)) continue
    if (excludes.some((p) => p === k || p === `${k}.*`)) continue
    out[k] = v
  }
  return out
}

export { filterSource }
