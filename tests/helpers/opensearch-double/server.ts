import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Cluster, filterSource, type Action } from './cluster.js'
import { OsError, badRequest, validationFailed } from './errors.js'
import type { Version } from './knn-mapping.js'

type Json = Record<string, unknown>

/** Fault injection: what the next requests should suffer. */
export interface Faults {
  /** Answer this many upcoming `_bulk` requests with a whole-request 429. */
  bulkRejections: number
  /** Per document id: answer its bulk items with this status this many times (429 = retryable). */
  items: Map<string, { status: number; type: string; times: number }>
  /** Answer every `_bulk` request this many milliseconds late (a loaded cluster), applying it only then. */
  bulkDelayMs: number
}

export interface OpenSearchDouble {
  url: string
  cluster: Cluster
  faults: Faults
  /** false = behave like a cluster before 2.4: no point-in-time API, scroll only. */
  pitSupported: boolean
  /** true = refuse `GET /` as a user without the cluster monitor privilege is refused. */
  rootForbidden: boolean
  /** Every request seen, `METHOD /path`, for assertions on what the adapter sent. */
  requests: string[]
  close(): Promise<void>
}

/** `version`: the OpenSearch version the double answers as (the k-NN mapping rules follow it). */
export async function startOpenSearchDouble(opts: { version?: Version } = {}): Promise<OpenSearchDouble> {
  const cluster = new Cluster(opts.version)
  const faults: Faults = { bulkRejections: 0, items: new Map(), bulkDelayMs: 0 }
  const double: OpenSearchDouble = {
    url: '',
    cluster,
    faults,
    pitSupported: true,
    rootForbidden: false,
    requests: [],
    close: () => new Promise((res, rej) => server.close((e) => (e ? rej(e) : res()))),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double')
      if (faults.bulkDelayMs > 0 && url.pathname.endsWith('/_bulk')) setTimeout(answer, faults.bulkDelayMs)
      else answer()
    })
    const answer = () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', 'http://double')
      const line = `${req.method} ${url.pathname}`
      double.requests.push(line)
      cluster.warnings = []
      try {
        const out = route(double, req, url, raw)
        for (const w of cluster.warnings) res.appendHeader('warning', `299 OpenSearch-${cluster.version.join('.')} "${w}"`)
        send(res, out.status, req.method === 'HEAD' ? undefined : out.body)
      } catch (e) {
        if (e instanceof OsError) send(res, e.status, req.method === 'HEAD' ? undefined : e.body())
        else send(res, 500, { error: { type: 'exception', reason: String(e) }, status: 500 })
      }
    }
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return double
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function json(raw: string): Json {
  if (!raw.trim()) return {}
  try {
    return JSON.parse(raw) as Json
  } catch {
    throw badRequest('parse_exception', 'request body is not valid JSON')
  }
}

const ok = (body: unknown, status = 200) => ({ status, body })

function route(d: OpenSearchDouble, req: IncomingMessage, url: URL, raw: string): { status: number; body: unknown } {
  const c = d.cluster
  const m = req.method ?? 'GET'
  const q = url.searchParams
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const [a, b, e] = parts as [string?, string?, string?]

  if (parts.length === 0 && d.rootForbidden) throw new OsError(403, 'security_exception', 'no permissions for [cluster:monitor/main] and User [name=app, backend_roles=[], requestedTenant=null]')
  if (parts.length === 0) return ok({ version: { distribution: 'opensearch', number: c.version.join('.') }, tagline: 'The OpenSearch Project: https://opensearch.org/' })
  if (a === '_aliases' && m === 'POST') {
    c.updateAliases((json(raw).actions as Json[]) ?? [])
    return ok({ acknowledged: true })
  }
  if (a === '_alias' && b) return ok(aliasView(c, c.resolveAliasOnly(b), b))
  if (a === '_bulk' || b === '_bulk') return bulk(d, a === '_bulk' ? undefined : a, raw, q)
  if (a === '_search' && b === 'point_in_time' && m === 'DELETE') {
    const ids = (json(raw).pit_id as string[]) ?? []
    return ok({ pits: ids.map((id) => ({ pit_id: id, successful: c.pits.delete(id) })) })
  }
  if (a === '_search' && b === 'scroll') return scroll(d, m, json(raw))
  if (a === '_search') {
    const body = json(raw)
    const pit = body.pit as { id: string } | undefined
    if (!pit) throw badRequest('illegal_argument_exception', 'search without index needs a pit')
    return ok(c.search({ pit: pit.id }, body))
  }
  if (!a) throw badRequest('illegal_argument_exception', 'no index')
  if (b === undefined) {
    if (m === 'HEAD') {
      c.resolve(a)
      return ok(undefined)
    }
    if (m === 'PUT') {
      c.createIndex(a, json(raw))
      return ok({ acknowledged: true, shards_acknowledged: true, index: a })
    }
    if (m === 'DELETE') {
      c.deleteIndex(a)
      return ok({ acknowledged: true })
    }
    return ok(Object.fromEntries(c.resolve(a).map((n) => [n, indexView(c, n)])))
  }
  switch (b) {
    case '_block':
      if (m !== 'PUT' || !e) throw badRequest('illegal_argument_exception', `the double does not implement ${m} /${parts.join('/')}`)
      return ok(c.addBlock(a, e))
    case '_update': {
      if (!e) throw badRequest('illegal_argument_exception', 'document id missing')
      const cond = seqNoCondition(q)
      const r = c.update(a, e, json(raw), cond)
      if (r.status >= 400) return itemError(r)
      if (q.get('refresh') === 'true' || q.get('refresh') === 'wait_for') c.refresh(c.writeTarget(a).name)
      return { status: r.status, body: r.body }
    }
    case '_search':
      if (e === 'point_in_time') {
        if (!d.pitSupported) throw badRequest('illegal_argument_exception', `request [/${a}/_search/point_in_time] contains unrecognized parameter`)
        if (!q.get('keep_alive')) throw badRequest('action_request_validation_exception', 'Validation Failed: 1: keep alive not specified;')
        return ok({ pit_id: c.createPit(a), _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, creation_time: Date.now() })
      }
      if (q.get('scroll')) return startScroll(d, a, json(raw))
      {
        const body = json(raw)
        if (body.pit) throw validationFailed('[indices] cannot be used with point in time. Do not specify any index with point in time.')
        return ok(c.search({ expr: a }, body))
      }
    case '_count':
      return ok({ count: c.count(a, json(raw)), _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } })
    case '_refresh':
      c.refresh(a)
      return ok({ _shards: { total: 1, successful: 1, failed: 0 } })
    case '_settings':
      if (m === 'PUT') {
        c.updateSettings(a, json(raw))
        return ok({ acknowledged: true })
      }
      return ok(Object.fromEntries(c.resolve(a).map((n) => [n, { settings: indexView(c, n).settings }])))
    case '_mapping':
      return ok(Object.fromEntries(c.resolve(a).map((n) => [n, { mappings: c.index(n).mappings }])))
    case '_alias':
      return ok(Object.fromEntries(c.resolve(a).map((n) => [n, { aliases: indexView(c, n).aliases }])))
    case '_clone':
      if (!e) throw badRequest('illegal_argument_exception', 'clone target missing')
      c.clone(a, e, json(raw))
      return ok({ acknowledged: true, shards_acknowledged: true, index: e })
    case '_mget': {
      const ids = (json(raw).ids as string[]) ?? []
      const excludes = q.get('_source_excludes')?.split(',') ?? []
      const includes = q.get('_source_includes')?.split(',')
      const noSource = q.get('_source') === 'false'
      const target = c.writeTarget(a)
      return ok({
        docs: ids.map((id) => {
          const doc = target.docs.get(id)
          if (!doc) return { _index: target.name, _id: id, found: false }
          return { _index: target.name, _id: id, _version: doc.version, _seq_no: doc.seqNo, _primary_term: 1, found: true, ...(noSource ? {} : { _source: filterSource(doc.source, { excludes, ...(includes ? { includes } : {}) }) }) }
        }),
      })
    }
    case '_create':
    case '_doc':
      return doc(d, m, a, b, e, q, raw)
    default:
      throw badRequest('illegal_argument_exception', `the double does not implement ${m} /${parts.join('/')}`)
  }
}

function doc(d: OpenSearchDouble, m: string, index: string, kind: string, id: string | undefined, q: URLSearchParams, raw: string) {
  const c = d.cluster
  if (!id) throw badRequest('illegal_argument_exception', 'document id missing')
  if (m === 'GET' || m === 'HEAD') {
    const found = c.get(index, id)
    const name = c.writeTarget(index).name
    if (!found) return { status: 404, body: { _index: name, _id: id, found: false } }
    return ok({ _index: name, _id: id, _version: found.version, _seq_no: found.seqNo, _primary_term: 1, found: true, _source: found.source })
  }
  const action: Action = {
    op: m === 'DELETE' ? 'delete' : kind === '_create' || q.get('op_type') === 'create' ? 'create' : 'index',
    index,
    id,
    ...(m === 'DELETE' ? {} : { source: json(raw) }),
    ...(q.get('version') ? { version: Number(q.get('version')), versionType: q.get('version_type') ?? 'internal' } : {}),
    ...seqNoCondition(q),
  }
  const r = c.write(action)
  if (r.status >= 400 && r.status !== 404) return itemError(r)
  if (q.get('refresh') === 'true' || q.get('refresh') === 'wait_for') c.refresh(index)
  return { status: r.status, body: r.body }
}

/** A single-document request answers a failed write with the item's error as the request error, causes included. */
function itemError(r: { status: number; body: Json }) {
  const { type, reason, index, caused_by } = (r.body.error ?? {}) as Json
  const cause = { type, reason, ...(index ? { index } : {}) }
  return { status: r.status, body: { error: { root_cause: [cause], ...cause, ...(caused_by ? { caused_by } : {}) }, status: r.status } }
}

/** if_seq_no needs if_primary_term: OpenSearch refuses the request before it reaches the document. */
function seqNoCondition(q: URLSearchParams): { ifSeqNo?: number; ifPrimaryTerm?: number } {
  if (q.get('if_seq_no') === null) return {}
  if (q.get('if_primary_term') === null) throw validationFailed('ifSeqNo is set, but primary term is [0]')
  return { ifSeqNo: Number(q.get('if_seq_no')), ifPrimaryTerm: Number(q.get('if_primary_term')) }
}

function bulk(d: OpenSearchDouble, defaultIndex: string | undefined, raw: string, q: URLSearchParams) {
  if (d.faults.bulkRejections > 0) {
    d.faults.bulkRejections--
    throw new OsError(429, 'rejected_execution_exception', 'rejected execution of coordinating operation [shard_detail=..., coordinating_and_primary_bytes=...]')
  }
  const lines = raw.split('\n').filter((l) => l.trim())
  const items: Json[] = []
  const touched = new Set<string>()
  for (let i = 0; i < lines.length; i++) {
    const header = JSON.parse(lines[i] as string) as Json
    const [op, meta] = Object.entries(header)[0] as [Action['op'], Json]
    const source = op === 'delete' ? undefined : (JSON.parse(lines[++i] as string) as Json)
    const id = String(meta._id)
    const index = String(meta._index ?? defaultIndex)
    touched.add(index)
    const fault = d.faults.items.get(id)
    if (fault && fault.times > 0) {
      fault.times--
      items.push({ [op]: { _index: index, _id: id, status: fault.status, error: { type: fault.type, reason: `injected ${fault.type}` } } })
      continue
    }
    try {
      const r = d.cluster.write({
        op,
        index,
        id,
        ...(source ? { source } : {}),
        ...(meta.version !== undefined ? { version: Number(meta.version), versionType: String(meta.version_type ?? 'internal') } : {}),
        ...(meta.if_seq_no !== undefined ? { ifSeqNo: Number(meta.if_seq_no), ...(meta.if_primary_term !== undefined ? { ifPrimaryTerm: Number(meta.if_primary_term) } : {}) } : {}),
      })
      items.push({ [op]: r.body })
    } catch (err) {
      if (!(err instanceof OsError)) throw err
      items.push({ [op]: { _index: index, _id: id, status: err.status, error: err.body().error } })
    }
  }
  if (q.get('refresh') === 'true' || q.get('refresh') === 'wait_for') for (const index of touched) d.cluster.refresh(index)
  return ok({ took: 1, errors: items.some((it) => Number((Object.values(it)[0] as Json).status) >= 300), items })
}

function indexView(c: Cluster, name: string) {
  const idx = c.index(name)
  const aliases: Json = {}
  for (const [alias, members] of c.aliases) if (members.has(name)) aliases[alias] = members.get(name) ? { is_write_index: true } : {}
  // Nested like OpenSearch prints them; a key that is also a prefix (knn, knn.algo_param.*) keeps the rest dotted.
  const settings: Json = {}
  for (const [k, v] of Object.entries(idx.settings).sort(([x], [y]) => x.split('.').length - y.split('.').length)) {
    let cur = settings
    const keys = k.split('.')
    while (keys.length > 1) {
      const key = keys[0] as string
      if (typeof cur[key] === 'string') {
        keys.splice(0, 2, `${key}.${keys[1]}`)
        continue
      }
      cur = (cur[key] ??= {}) as Json
      keys.shift()
    }
    cur[keys[0] as string] = v
  }
  return { aliases, mappings: idx.mappings, settings: { index: { number_of_shards: '1', number_of_replicas: '1', ...settings, provided_name: name } } }
}

function aliasView(c: Cluster, indices: string[], alias: string) {
  return Object.fromEntries(indices.map((n) => [n, { aliases: { [alias]: c.aliases.get(alias)?.get(n) ? { is_write_index: true } : {} } }]))
}

const scrolls = new WeakMap<OpenSearchDouble, Map<string, { hits: Json[]; offset: number; size: number }>>()

/** Scroll: the whole result is fixed when the scroll starts, then handed out page by page. */
function startScroll(d: OpenSearchDouble, index: string, body: Json) {
  const size = Number(body.size ?? 10)
  const all = d.cluster.search({ expr: index, scroll: true }, { ...body, size: Number.MAX_SAFE_INTEGER })
  const hits = ((all.hits as Json).hits as Json[]) ?? []
  const id = Buffer.from(`scroll-${d.requests.length}`).toString('base64')
  const map = scrolls.get(d) ?? new Map()
  scrolls.set(d, map)
  map.set(id, { hits, offset: size, size })
  return ok({ _scroll_id: id, ...all, hits: { ...(all.hits as Json), hits: hits.slice(0, size) } })
}

function scroll(d: OpenSearchDouble, m: string, body: Json) {
  const map = scrolls.get(d) ?? new Map<string, { hits: Json[]; offset: number; size: number }>()
  if (m === 'DELETE') {
    const ids = (Array.isArray(body.scroll_id) ? body.scroll_id : [body.scroll_id]) as string[]
    return ok({ succeeded: true, num_freed: ids.filter((id) => map.delete(id)).length })
  }
  const s = map.get(String(body.scroll_id))
  if (!s) throw new OsError(404, 'search_context_missing_exception', `No search context found for id [${String(body.scroll_id)}]`)
  const page = s.hits.slice(s.offset, s.offset + s.size)
  s.offset += s.size
  return ok({ _scroll_id: body.scroll_id, took: 1, timed_out: false, hits: { total: { value: s.hits.length, relation: 'eq' }, hits: page } })
}
