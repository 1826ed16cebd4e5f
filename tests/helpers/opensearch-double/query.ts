import { OsError, badRequest } from './errors.js'

export interface StoredDoc {
  id: string
  source: Record<string, unknown>
  version: number
  seqNo: number
}

export interface KnnField {
  dimension: number
  spaceType: 'l2' | 'cosinesimil' | 'innerproduct'
}

export interface QueryContext {
  docs: StoredDoc[]
  knnFields: Map<string, KnnField>
  /** Field mappings of the searched indices, for the checks that depend on a field's type. */
  properties?: Record<string, Json>
}

type Json = Record<string, unknown>
/** null = the document does not match; a number = its score. */
type Scorer = (d: StoredDoc) => number | null

export function fieldValue(source: Json, path: string): unknown {
  let cur: unknown = source
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined
    cur = (cur as Json)[part]
  }
  return cur
}

/** Compiles an OpenSearch query DSL object into a scorer over the context's documents. */
export function compileQuery(q: Json | undefined, ctx: QueryContext): Scorer {
  if (!q || Object.keys(q).length === 0) return () => 1
  const [type, raw] = single(q)
  const body = raw as Json
  switch (type) {
    case 'match_all':
      return () => 1
    case 'ids': {
      const ids = new Set((body.values as unknown[]).map(String))
      return (d) => (ids.has(d.id) ? 1 : null)
    }
    case 'term': {
      const [field, v] = single(body)
      const want = v && typeof v === 'object' ? (v as Json).value : v
      return (d) => (fieldValue(d.source, field) === want ? 1 : null)
    }
    case 'exists':
      return (d) => (fieldValue(d.source, String(body.field)) != null ? 1 : null)
    case 'range':
      return rangeScorer(body)
    case 'bool':
      return boolScorer(body, ctx)
    case 'multi_match':
      checkLenient(body, ctx)
      return bm25Scorer(String(body.query), body.fields as string[], ctx)
    case 'knn':
      return knnScorer(body, ctx)
    case 'script_score':
      return scriptScorer(body, ctx)
    default:
      throw badRequest('parsing_exception', `unknown query [${type}]`)
  }
}

function single(o: Json): [string, unknown] {
  const keys = Object.keys(o)
  if (keys.length !== 1) throw badRequest('parsing_exception', `expected one key, got [${keys.join(',')}]`)
  const k = keys[0] as string
  return [k, o[k]]
}

function comparable(v: unknown): number | string | null {
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    const t = Date.parse(v)
    return Number.isNaN(t) || /^\d+$/.test(v) ? v : t
  }
  return null
}

function rangeScorer(body: Json): Scorer {
  const [field, raw] = single(body)
  const r = raw as Record<string, unknown>
  const bound = (k: string) => (r[k] === undefined ? undefined : comparable(r[k]))
  const [gte, gt, lte, lt] = [bound('gte'), bound('gt'), bound('lte'), bound('lt')]
  return (d) => {
    const v = comparable(fieldValue(d.source, field))
    if (v === null) return null
    if (gte != null && !(v >= gte)) return null
    if (gt != null && !(v > gt)) return null
    if (lte != null && !(v <= lte)) return null
    if (lt != null && !(v < lt)) return null
    return 1
  }
}

function clauses(v: unknown): Json[] {
  if (v === undefined) return []
  return Array.isArray(v) ? (v as Json[]) : [v as Json]
}

function boolScorer(body: Json, ctx: QueryContext): Scorer {
  const must = clauses(body.must).map((c) => compileQuery(c, ctx))
  const filter = clauses(body.filter).map((c) => compileQuery(c, ctx))
  const should = clauses(body.should).map((c) => compileQuery(c, ctx))
  const mustNot = clauses(body.must_not).map((c) => compileQuery(c, ctx))
  const minShould = Number(body.minimum_should_match ?? (must.length + filter.length === 0 && should.length > 0 ? 1 : 0))
  return (d) => {
    let score = 0
    for (const s of must) {
      const v = s(d)
      if (v === null) return null
      score += v
    }
    for (const s of filter) if (s(d) === null) return null
    for (const s of mustNot) if (s(d) !== null) return null
    let matched = 0
    for (const s of should) {
      const v = s(d)
      if (v !== null) {
        matched++
        score += v
      }
    }
    if (matched < minShould) return null
    return must.length + should.length === 0 ? 1 : score
  }
}

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long'])

/** Without `lenient`, a query text that a numeric or date field among `fields` cannot parse fails the whole search. */
function checkLenient(body: Json, ctx: QueryContext): void {
  if (body.lenient === true) return
  const query = String(body.query)
  for (const f of (body.fields as string[]) ?? []) {
    const type = String(ctx.properties?.[f]?.type ?? '')
    const bad = (NUMERIC.has(type) && !Number.isFinite(Number(query))) || (type.startsWith('date') && Number.isNaN(Date.parse(query)) && !/^\d+$/.test(query))
    if (bad) {
      throw new OsError(400, 'search_phase_execution_exception', 'all shards failed', undefined, [
        { type: 'query_shard_exception', reason: `failed to create query: ${NUMERIC.has(type) ? `For input string: "${query}"` : `failed to parse date field [${query}]`}` },
      ])
    }
  }
}

const tokenize = (s: string) => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)

/** BM25 (k1 1.2, b 0.75) per field, best field wins — multi_match's default best_fields. */
function bm25Scorer(query: string, fields: string[], ctx: QueryContext): Scorer {
  const terms = tokenize(query)
  const stats = fields.map((f) => {
    const tokens = new Map(ctx.docs.map((d) => [d.id, tokenize(String(fieldValue(d.source, f) ?? ''))]))
    const avg = [...tokens.values()].reduce((a, t) => a + t.length, 0) / Math.max(1, tokens.size)
    const df = new Map(terms.map((t) => [t, [...tokens.values()].filter((tk) => tk.includes(t)).length]))
    return { tokens, avg, df }
  })
  const n = ctx.docs.length
  return (d) => {
    let best: number | null = null
    for (const s of stats) {
      const tk = s.tokens.get(d.id) ?? []
      let score = 0
      let hit = false
      for (const t of terms) {
        const tf = tk.filter((x) => x === t).length
        if (tf === 0) continue
        hit = true
        const df = s.df.get(t) ?? 0
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
        score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * tk.length) / Math.max(1, s.avg)))
      }
      if (hit && (best === null || score > best)) best = score
    }
    return best
  }
}

/** OpenSearch's k-NN score transforms (faiss/lucene): higher is closer. */
export function knnScore(space: KnnField['spaceType'], a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  let l2 = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    dot += x * y
    na += x * x
    nb += y * y
    l2 += (x - y) * (x - y)
  }
  if (space === 'l2') return 1 / (1 + l2)
  if (space === 'innerproduct') return dot >= 0 ? dot + 1 : 1 / (1 - dot)
  const cos = na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
  return (1 + cos) / 2
}

/**
 * The k-NN plugin's exact search: script_score with the `knn_score` script (lang `knn`), a brute
 * force over the documents the inner query matches. Scores follow the plugin's script spaces.
 */
function scriptScorer(body: Json, ctx: QueryContext): Scorer {
  const inner = compileQuery(body.query as Json | undefined, ctx)
  const script = (body.script ?? {}) as Json
  if (script.source !== 'knn_score' || script.lang !== 'knn') throw badRequest('illegal_argument_exception', `the double implements only the knn_score script of lang knn`)
  const params = (script.params ?? {}) as Json
  const field = String(params.field)
  const f = ctx.knnFields.get(field)
  if (!f) throw badRequest('illegal_argument_exception', `Field '${field}' is not knn_vector type.`)
  const q = params.query_value as number[]
  if (!Array.isArray(q) || q.length !== f.dimension) throw badRequest('illegal_argument_exception', `Query vector has invalid dimension: ${q?.length}. Dimension should be: ${f.dimension}`)
  const space = String(params.space_type) as KnnField['spaceType']
  if (space === 'cosinesimil' && q.every((x) => x === 0)) throw badRequest('illegal_argument_exception', 'zero vector is not supported when space type is [cosinesimil]')
  return (d) => {
    if (inner(d) === null) return null
    const v = fieldValue(d.source, field)
    if (!Array.isArray(v)) return null
    if (space === 'l2') return 1 / (1 + l2Squared(q, v as number[]))
    if (space === 'cosinesimil') return 1 + cosine(q, v as number[])
    const dot = q.reduce((acc, x, i) => acc + x * ((v as number[])[i] as number), 0)
    return dot >= 0 ? dot + 1 : 1 / (1 - dot)
  }
}

function l2Squared(a: number[], b: number[]): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2
  return s
}

function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number)
    na += (a[i] as number) ** 2
    nb += (b[i] as number) ** 2
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

function knnScorer(body: Json, ctx: QueryContext): Scorer {
  const [field, raw] = single(body)
  const spec = raw as { vector: number[]; k: number }
  const f = ctx.knnFields.get(field)
  if (!f) throw badRequest('query_shard_exception', `Field '${field}' is not knn_vector type.`)
  if (!Array.isArray(spec.vector) || spec.vector.length !== f.dimension) {
    throw badRequest('illegal_argument_exception', `Query vector has invalid dimension: ${spec.vector?.length}. Dimension should be: ${f.dimension}`)
  }
  if (!(spec.k >= 1 && spec.k <= 10_000)) throw badRequest('illegal_argument_exception', `[knn] requires 0 < k <= 10000`)
  if (f.spaceType === 'cosinesimil' && spec.vector.every((x) => x === 0)) throw badRequest('illegal_argument_exception', 'zero vector is not supported when space type is [cosinesimil]')
  // Brute force: exact neighbours, which an HNSW graph only approximates.
  const scored = ctx.docs
    .map((d) => ({ id: d.id, v: fieldValue(d.source, field) }))
    .filter((x): x is { id: string; v: number[] } => Array.isArray(x.v))
    .map((x) => ({ id: x.id, score: knnScore(f.spaceType, spec.vector, x.v) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, spec.k)
  const top = new Map(scored.map((s) => [s.id, s.score]))
  return (d) => top.get(d.id) ?? null
}
