/**
 * In-memory StoreAdapter honouring the whole contract (generations, token guard, keyset pending,
 * per-generation freshness record and change queue, journal, lock, held-writes cutover, brute-force
 * search): the engine's unit-test store. It passes the same conformance kit as the real adapters
 * (tests/conformance/memory.test.ts) and adds knobs for crashes (failOn), concurrent writes
 * (beforePage) and write counting.
 */
import { createHash } from 'node:crypto'
import { hostname } from 'node:os'
import { failure, inputError } from '../../src/core/errors.js'
import type { ProgressEvent } from '../../src/core/events.js'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection, Config, IndexSettings, Profile, VectorStorage } from '../../src/core/types.js'
import type { EngineContext } from '../../src/plan/types.js'
import type {
  AdapterCapabilities,
  CutoverOptions,
  CutoverResult,
  Freshness,
  GenerationSpec,
  GenerationState,
  Hit,
  IndexState,
  Journal,
  LiveState,
  LockInfo,
  PendingOptions,
  PendingRow,
  Release,
  RowKey,
  SampledRow,
  SearchQuery,
  StoreAdapter,
  VectorRow,
  VerifyReport,
  WriteOptions,
} from '../../src/store/adapter.js'
import { fakeOpenEncoder, type FakeEncoderOptions, type FakeEncoderStats } from './fake-encoder.js'
import { makeProfile } from './profile.js'

interface MemGeneration {
  id: number
  status: 'live' | 'building' | 'retained'
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  storage: VectorStorage
  indexSettings: IndexSettings | null
  profileSnapshot: Profile | null
  createdAt: string
  index: IndexState | null
  /**
   * Each vector with the hash of the text it was made from (null: adopted, origin unknown). A null
   * vector is a skipped row (zero_vectors: skip): recorded, with no vector.
   */
  vectors: Map<RowKey, { vector: Float32Array | null; token: string | null }>
  /** Keys the application inserted, edited or deleted since their vector was written. */
  queue: Set<RowKey>
}

interface MemCollection {
  rows: Map<RowKey, string>
  generations: Map<number, MemGeneration>
  live: number | null
  lock: LockInfo | null
  journal: Journal | null
}

type Method = keyof Omit<StoreAdapter, 'kind' | 'capabilities'>

const tokenOf = (text: string): string => createHash('sha1').update(text).digest('hex').slice(0, 12)
const hashOf = (v: unknown): string => createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16)
/** The helpers name a collection as testCollection() does: `docs` is table `public.docs`. */
const tableOf = (nameOrTarget: string): string => (nameOrTarget.includes('.') ? nameOrTarget : `public.${nameOrTarget}`)
const compareKeys = (a: RowKey, b: RowKey): number =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0

export class MemoryAdapter implements StoreAdapter {
  readonly kind = 'pglite'
  readonly capabilities: AdapterCapabilities = { concurrentIndex: true, hybridSearch: false, inPlaceIndexRebuild: true, maxIndexDimensions: { vector: 2000, halfvec: 4000 } }
  /** Shared with adapters made by reopen(): one store, several connections. */
  private readonly collections: Map<string, MemCollection>
  private readonly failures: { method: Method; after: number; times: number; calls: number }[] = []
  private readonly writes = new Map<string, number>()
  /** Every journal written, in order (null = cleared). */
  readonly journalLog: (Journal | null)[] = []
  /** Runs before each pending page is computed: the place to simulate application writes. */
  beforePage?: (collection: string, phase: PendingOptions['phase'], page: number) => void
  private closed = false

  constructor(collections: Map<string, MemCollection> = new Map()) {
    this.collections = collections
  }

  /** Another adapter over the same in-memory store, as a second process would open it. */
  reopen(): MemoryAdapter {
    return new MemoryAdapter(this.collections)
  }

  /** Application inserts; queued for every generation, as a trigger would. */
  seed(collection: string, rows: { key: RowKey; text: string }[]): void {
    const mc = this.mc(tableOf(collection), true)
    for (const r of rows) this.applicationWrite(mc, r.key, r.text)
  }

  /** An application write: a new row, or new text for an existing one. */
  upsertRow(collection: string, key: RowKey, text: string): void {
    this.applicationWrite(this.mc(tableOf(collection)), key, text)
  }

  /** An application delete. */
  removeRow(collection: string, key: RowKey): void {
    this.applicationWrite(this.mc(tableOf(collection)), key, undefined)
  }

  private applicationWrite(mc: MemCollection, key: RowKey, text: string | undefined): void {
    if (text === undefined) mc.rows.delete(key)
    else mc.rows.set(key, text)
    for (const g of mc.generations.values()) g.queue.add(key)
  }

  /** A live generation embedform did not make (profile/fingerprint unknown), as found when adopting a table. */
  adoptLive(collection: string, opts: { dimensions: number; vector: (text: string) => Float32Array; indexed?: boolean }): void {
    const mc = this.mc(tableOf(collection))
    const vectors = new Map<RowKey, { vector: Float32Array; token: string | null }>()
    for (const [k, t] of mc.rows) vectors.set(k, { vector: opts.vector(t), token: null })
    mc.generations.set(1, {
      id: 1,
      status: 'live',
      profile: null,
      fingerprint: null,
      model: null,
      dimensions: opts.dimensions,
      storage: 'vector',
      indexSettings: null,
      profileSnapshot: null,
      createdAt: new Date().toISOString(),
      index: opts.indexed ? { name: `${collection}_embedding_idx`, method: 'hnsw', valid: true, settingsHash: 'unknown' } : null,
      vectors,
      queue: new Set(),
    })
    mc.live = 1
  }

  /** Make the next `times` calls of `method` (after skipping `after` calls) throw, like a crash or an outage. */
  failOn(method: Method, opts: { after?: number; times?: number } = {}): void {
    this.failures.push({ method, after: opts.after ?? 0, times: opts.times ?? 1, calls: 0 })
  }

  /** Successful writes of `key` into generation `g`, token-guard skips excluded. */
  writeCount(collection: string, g: number, key: RowKey): number {
    return this.writes.get(`${collection}/${g}/${String(key)}`) ?? 0
  }

  writeCounts(collection: string, g: number): number[] {
    return [...this.mc(tableOf(collection)).rows.keys()].map((k) => this.writeCount(collection, g, k))
  }

  /** Everything held for a collection, as one string: the conformance kit's read-only check compares it. */
  dump(collection: string): string {
    const mc = this.collections.get(tableOf(collection))
    if (!mc) return 'none'
    const gens = [...mc.generations.values()].map((g) => ({
      ...g,
      vectors: [...g.vectors].map(([k, v]) => [k, v.vector ? Array.from(v.vector) : null, v.token]),
      queue: [...g.queue],
    }))
    return stableJson({ rows: [...mc.rows], live: mc.live, lock: mc.lock, journal: mc.journal, gens })
  }

  /** undefined: nothing written; null: written as skipped. */
  vectorOf(collection: string, g: number, key: RowKey): Float32Array | null | undefined {
    return this.mc(tableOf(collection)).generations.get(g)?.vectors.get(key)?.vector
  }

  private mc(name: string, create = false): MemCollection {
    let mc = this.collections.get(name)
    if (!mc && create) {
      mc = { rows: new Map(), generations: new Map(), live: null, lock: null, journal: null }
      this.collections.set(name, mc)
    }
    if (!mc) throw inputError('E_COLLECTION_MISSING', `memory store has no collection ${name}`)
    return mc
  }

  private gen(c: Collection, g: number): MemGeneration {
    const gen = this.mc(c.target).generations.get(g)
    if (!gen) throw failure('E_GENERATION_MISSING', `generation g${g} of ${c.name} does not exist`, { location: { object: `generation g${g}` } })
    return gen
  }

  private maybeFail(method: Method): void {
    if (this.closed) throw failure('E_ADAPTER_CLOSED', `memory adapter used after close() (${method})`)
    for (const f of this.failures) {
      if (f.method !== method || f.times <= 0) continue
      f.calls++
      if (f.calls > f.after) {
        f.times--
        throw failure('E_SIMULATED', `simulated failure in ${method}`)
      }
    }
  }

  private physical(c: Collection, g: MemGeneration): string {
    return g.status === 'live' ? c.vector : `${c.vector}__g${g.id}`
  }

  private stateOf(c: Collection, mc: MemCollection, g: MemGeneration): GenerationState {
    let populated = 0
    for (const k of mc.rows.keys()) if (g.vectors.get(k)?.vector) populated++
    return {
      id: g.id,
      status: g.status,
      physical: this.physical(c, g),
      // Only an adopted generation has no recorded profile; the collection's adopted_profile names it.
      profile: g.profile ?? c.adoptedProfile ?? null,
      fingerprint: g.fingerprint,
      model: g.model,
      dimensions: g.dimensions,
      storage: g.storage,
      populated,
      index: g.index ? { ...g.index } : null,
      indexSettings: g.indexSettings,
      profileSnapshot: g.profileSnapshot,
      createdAt: g.createdAt,
    }
  }

  async inspect(c: Collection): Promise<LiveState> {
    this.maybeFail('inspect')
    const mc = this.collections.get(c.target)
    if (!mc) {
      return { collection: c.name, exists: false, rows: 0, rowsExact: true, generations: [], live: null, lock: null, journal: null, version: hashOf(null) }
    }
    const generations = [...mc.generations.values()].sort((a, b) => a.id - b.id).map((g) => this.stateOf(c, mc, g))
    const version = hashOf({
      live: mc.live,
      generations: generations.map((g) => ({ id: g.id, status: g.status, fingerprint: g.fingerprint, dimensions: g.dimensions, storage: g.storage, indexSettings: g.indexSettings, index: g.index })),
    })
    return {
      collection: c.name,
      exists: true,
      rows: mc.rows.size,
      rowsExact: true,
      generations,
      live: mc.live,
      lock: mc.lock ? { ...mc.lock } : null,
      journal: mc.journal ? structuredClone(mc.journal) : null,
      version,
    }
  }

  async lock(c: Collection, holder: string): Promise<Release> {
    this.maybeFail('lock')
    const mc = this.mc(c.target)
    if (mc.lock) throw failure('E_LOCK_HELD', `collection ${c.name} is locked by ${mc.lock.holder} since ${mc.lock.since}`)
    const mine: LockInfo = { holder, pid: process.pid, host: hostname(), since: new Date().toISOString() }
    mc.lock = mine
    return async () => {
      if (mc.lock === mine) mc.lock = null
    }
  }

  async createGeneration(c: Collection, g: GenerationSpec): Promise<void> {
    this.maybeFail('createGeneration')
    const mc = this.mc(c.target)
    if (mc.generations.has(g.id)) return
    mc.generations.set(g.id, {
      id: g.id,
      status: 'building',
      profile: g.profile,
      fingerprint: g.fingerprint,
      model: g.model,
      dimensions: g.dimensions,
      storage: g.storage,
      indexSettings: g.index,
      profileSnapshot: g.profileSnapshot,
      createdAt: new Date().toISOString(),
      index: null,
      vectors: new Map(),
      queue: new Set(),
    })
  }

  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    let after: RowKey | undefined
    // A catch-up pass reads what was queued when it started, so it ends however fast writes arrive.
    let snapshot: Set<RowKey> | undefined
    for (let page = 0; ; page++) {
      this.beforePage?.(c.name, opts.phase, page)
      this.maybeFail('pending')
      if (opts.phase === 'catchup') {
        snapshot ??= new Set(gen.queue)
        this.consumeDeletes(mc, gen)
      }
      const candidates: [RowKey, string][] =
        opts.phase === 'backfill'
          ? [...mc.rows.entries()].filter(([k]) => !gen.vectors.has(k))
          : [...gen.queue].filter((k) => snapshot!.has(k)).map((k) => [k, mc.rows.get(k)!] as [RowKey, string])
      const rows: PendingRow[] = candidates
        .filter(([k]) => after === undefined || compareKeys(k, after) > 0)
        .sort(([a], [b]) => compareKeys(a, b))
        .slice(0, opts.batchSize)
        .map(([key, text]) => ({ key, text, token: tokenOf(text) }))
      if (rows.length === 0) return
      after = rows[rows.length - 1]?.key
      yield rows
    }
  }

  /** A deleted row leaves the queue (and its vector goes) without ever being yielded. */
  private consumeDeletes(mc: MemCollection, gen: MemGeneration): void {
    for (const k of gen.queue) {
      if (mc.rows.has(k)) continue
      gen.queue.delete(k)
      gen.vectors.delete(k)
    }
  }

  async write(c: Collection, generation: number, rows: VectorRow[], opts: WriteOptions = {}): Promise<void> {
    this.maybeFail('write')
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    if (gen.status === 'live' && !opts.live) throw failure('E_WRITE_LIVE', `refusing to write into live generation g${generation} of ${c.name}`)
    this.store(c, mc, gen, rows)
  }

  private store(c: Collection, mc: MemCollection, gen: MemGeneration, rows: VectorRow[]): number {
    for (const r of rows) {
      if (r.vector !== null && r.vector.length !== gen.dimensions) {
        throw inputError('E_DIMENSIONS', `vector for ${String(r.key)} has ${r.vector.length} dimensions, g${gen.id} holds ${gen.dimensions}`)
      }
    }
    let stored = 0
    for (const r of rows) {
      const text = mc.rows.get(r.key)
      if (text === undefined || (r.token !== undefined && r.token !== tokenOf(text))) continue
      gen.vectors.set(r.key, { vector: r.vector, token: tokenOf(text) })
      gen.queue.delete(r.key)
      stored++
      const k = `${c.name}/${gen.id}/${String(r.key)}`
      this.writes.set(k, (this.writes.get(k) ?? 0) + 1)
    }
    return stored
  }

  private tally(mc: MemCollection, gen: MemGeneration): { fresh: number; stale: RowKey[]; missing: RowKey[]; unverified: number; skipped: number } {
    const out = { fresh: 0, stale: [] as RowKey[], missing: [] as RowKey[], unverified: 0, skipped: 0 }
    for (const [k, text] of mc.rows) {
      const v = gen.vectors.get(k)
      // Skipped from the current text: done. From older text: it needs a vector like any row without one.
      if (v && v.vector === null) {
        if (v.token === tokenOf(text)) out.skipped++
        else out.missing.push(k)
      } else if (!v) out.missing.push(k)
      else if (v.token === null) out.unverified++
      else if (v.token === tokenOf(text)) out.fresh++
      else out.stale.push(k)
    }
    return out
  }

  async freshness(c: Collection, generation: number): Promise<Freshness> {
    this.maybeFail('freshness')
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    const t = this.tally(mc, gen)
    return { generation, rows: mc.rows.size, fresh: t.fresh, stale: t.stale.length, missing: t.missing.length, skipped: t.skipped, unverified: t.unverified, queued: gen.queue.size, exact: true }
  }

  async buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void, settings?: IndexSettings): Promise<void> {
    this.maybeFail('buildIndex')
    const gen = this.gen(c, generation)
    if (settings) gen.indexSettings = settings
    const s = gen.indexSettings
    // Follows the pgvector section, as the pglite store this double stands in for.
    if (!s || s.pgvector.type === 'none') {
      gen.index = null
      return
    }
    gen.index = { name: `${c.name}_g${generation}_idx`, method: s.pgvector.type, valid: true, settingsHash: hashOf({ metric: s.metric, pgvector: s.pgvector }) }
    const total = gen.vectors.size
    onProgress?.(total, total)
  }

  async dropIndex(c: Collection, generation: number): Promise<void> {
    this.maybeFail('dropIndex')
    this.gen(c, generation).index = null
  }

  async verify(c: Collection, generation: number): Promise<VerifyReport> {
    this.maybeFail('verify')
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    let populated = 0
    let wrongDimensions = 0
    for (const k of mc.rows.keys()) {
      const v = gen.vectors.get(k)
      if (!v?.vector) continue
      populated++
      if (v.vector.length !== gen.dimensions) wrongDimensions++
    }
    const t = this.tally(mc, gen)
    const missing = mc.rows.size - populated - t.skipped
    // A stale row must be in the queue; a missing one too, once the generation was complete (a partial backfill's gaps are missing, not untracked).
    const untracked = t.stale.filter((k) => !gen.queue.has(k)).length
    let zeroVectors = 0
    for (const [k, v] of gen.vectors) if (mc.rows.has(k) && v.vector?.every((x) => x === 0)) zeroVectors++
    const sampleKeys = [...gen.vectors.entries()].filter(([k, v]) => mc.rows.has(k) && v.vector !== null).map(([k]) => k).slice(0, 5)
    let selfFound = 0
    for (const k of sampleKeys) {
      const hits = await this.search(c, generation, { vector: gen.vectors.get(k)?.vector as Float32Array, k: 3 })
      if (hits.some((h) => h.key === k)) selfFound++
    }
    const indexValid = gen.index ? gen.index.valid : null
    const queuedMissing = t.missing.filter((k) => gen.queue.has(k)).length
    const problems = [
      ...(missing - queuedMissing > 0 ? [`${missing - queuedMissing} rows missing`] : []),
      ...(untracked > 0 ? [`${untracked} stale rows the change queue does not hold`] : []),
      ...(wrongDimensions > 0 ? [`${wrongDimensions} vectors with wrong dimensions`] : []),
      ...(indexValid === false ? ['index invalid'] : []),
    ]
    // Exact search is the index here, so recall against it is 1 whenever there is an index.
    const indexRecall = gen.index && sampleKeys.length > 0 ? 1 : null
    return {
      generation,
      total: mc.rows.size,
      populated,
      missing,
      skipped: t.skipped,
      stale: t.stale.length,
      untracked,
      zeroVectors,
      wrongDimensions,
      indexValid,
      sample: { checked: sampleKeys.length, selfFound },
      indexRecall,
      ok: problems.length === 0,
      problems,
    }
  }

  /**
   * JavaScript runs one thing at a time: between the last pending check and the switch there is
   * no await, so no application write can slip in. That is the double's write hold.
   */
  async cutover(c: Collection, generation: number, opts: CutoverOptions): Promise<CutoverResult> {
    this.maybeFail('cutover')
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    const started = performance.now()
    this.consumeDeletes(mc, gen)
    const pendingRows = (): PendingRow[] => {
      const t = this.tally(mc, gen)
      return [...t.stale, ...t.missing].sort(compareKeys).map((key) => ({ key, text: mc.rows.get(key)!, token: tokenOf(mc.rows.get(key)!) }))
    }
    let embedded = 0
    let pending = pendingRows()
    while (pending.length > 0 && opts.embed && embedded + pending.length <= opts.maxHeldRows) {
      const vectors = await opts.embed(pending)
      embedded += this.store(c, mc, gen, vectors)
      pending = pendingRows()
    }
    if (pending.length > 0 && !opts.acceptStale) return { status: 'behind', pending: pending.length, heldMs: performance.now() - started }
    const swapStarted = performance.now()
    if (mc.live !== generation) {
      const prev = mc.live === null ? undefined : mc.generations.get(mc.live)
      if (prev) prev.status = 'retained'
      gen.status = 'live'
      mc.live = generation
    }
    const now = performance.now()
    return { status: 'done', heldMs: now - started, swapMs: now - swapStarted, embeddedWhileHeld: embedded, leftStale: pending.length }
  }

  async dropGeneration(c: Collection, generation: number): Promise<void> {
    this.maybeFail('dropGeneration')
    const mc = this.mc(c.target)
    if (mc.live === generation) throw failure('E_GENERATION_LIVE', `refusing to drop live generation g${generation} of ${c.name}`)
    mc.generations.delete(generation)
  }

  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const mc = this.mc(c.target)
    const gen = this.gen(c, generation)
    const scored: Hit[] = []
    for (const [key, { vector }] of gen.vectors) {
      const text = mc.rows.get(key)
      if (text === undefined || vector === null) continue
      let dot = 0
      for (let i = 0; i < vector.length; i++) dot += (vector[i] as number) * (q.vector[i] ?? 0)
      scored.push({ key, score: dot, text })
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, q.k)
  }

  async sample(c: Collection, n: number, generation?: number): Promise<SampledRow[]> {
    const mc = this.mc(c.target)
    const gen = generation === undefined ? undefined : this.gen(c, generation)
    const keys = [...mc.rows.keys()]
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[keys[i], keys[j]] = [keys[j]!, keys[i]!]
    }
    return keys.slice(0, n).map((key) => {
      const text = mc.rows.get(key)!
      if (!gen) return { key, text }
      const v = gen.vectors.get(key)
      const record = !v ? 'missing' : v.vector === null ? (v.token === tokenOf(text) ? 'skipped' : 'missing') : v.token === null ? 'unverified' : v.token === tokenOf(text) ? 'fresh' : 'stale'
      return { key, text, vector: v ? v.vector : null, record }
    })
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    this.maybeFail('readJournal')
    const j = this.mc(c.target).journal
    return j ? structuredClone(j) : null
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    this.maybeFail('writeJournal')
    // Persisted as JSON, like the real adapters do: nothing shared with the engine's object.
    this.mc(c.target).journal = j ? (JSON.parse(JSON.stringify(j)) as Journal) : null
    this.journalLog.push(j ? (JSON.parse(JSON.stringify(j)) as Journal) : null)
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

export function testProfile(name: string, over: Partial<Profile> = {}): Profile {
  return makeProfile({ name, ...over })
}

export function testCollection(name: string, profile: string, over: Partial<Collection> = {}): Collection {
  return { name, store: 'mem', profile, target: `public.${name}`, key: 'id', text: { columns: ['body'], separator: '\n' }, vector: 'embedding', ...over }
}

export interface MemoryWorld {
  ctx: EngineContext
  adapter: MemoryAdapter
  encoder: FakeEncoderStats
  events: ProgressEvent[]
}

/** An EngineContext over one MemoryAdapter store named `mem` and the fake encoder. */
export function memoryWorld(opts: { profiles: Profile[]; collections: Collection[]; adapter?: MemoryAdapter; encoder?: FakeEncoderOptions }): MemoryWorld {
  const adapter = opts.adapter ?? new MemoryAdapter()
  const { open, stats } = fakeOpenEncoder(opts.encoder)
  const events: ProgressEvent[] = []
  const config: Config = {
    version: 1,
    file: '/tmp/embedding.config.yaml',
    profilesDir: '/tmp/profiles',
    stores: { mem: { name: 'mem', kind: 'pglite', path: 'memory://' } },
    // Copies: tests edit the config (switch a collection's profile) without leaking into other tests.
    collections: Object.fromEntries(opts.collections.map((c) => [c.name, { ...c }])),
    profiles: Object.fromEntries(opts.profiles.map((p) => [p.name, p])),
  }
  const ctx: EngineContext = {
    config,
    adapterFor: async () => adapter,
    openEncoder: open,
    holder: 'test@host pid 1',
    onEvent: (e) => events.push(e),
    close: async () => adapter.close(),
  }
  return { ctx, adapter, encoder: stats, events }
}

/** Rows `1..n` with distinct text. */
export function rows(n: number, prefix = 'document'): { key: number; text: string }[] {
  return Array.from({ length: n }, (_, i) => ({ key: i + 1, text: `${prefix} number ${i + 1} about topic ${i % 7}` }))
}
