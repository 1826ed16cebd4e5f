/**
 * In-memory StoreAdapter honouring the whole contract (generations, token guard, keyset pending,
 * journal, lock, cutover/rollback, brute-force search): the engine's unit-test store. The real
 * adapters (pgvector, opensearch) run the conformance suite; this one is a test double with
 * knobs for crashes (failOn), concurrent writes (beforePage) and write counting.
 */
import { createHash } from 'node:crypto'
import { failure, inputError } from '../../src/core/errors.js'
import type { ProgressEvent } from '../../src/core/events.js'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection, Config, IndexSettings, Profile, VectorStorage } from '../../src/core/types.js'
import type { EngineContext } from '../../src/plan/types.js'
import type {
  AdapterCapabilities,
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
  SearchQuery,
  StoreAdapter,
  VectorRow,
  VerifyReport,
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
  vectors: Map<RowKey, { vector: Float32Array; token: string }>
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
const compareKeys = (a: RowKey, b: RowKey): number =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0

export class MemoryAdapter implements StoreAdapter {
  readonly kind = 'pgvector' as const
  readonly capabilities: AdapterCapabilities = { concurrentIndex: true, hybridSearch: false, inPlaceIndexRebuild: true, maxIndexDimensions: { vector: 2000, halfvec: 4000 } }
  private readonly collections = new Map<string, MemCollection>()
  private readonly failures: { method: Method; after: number; times: number; calls: number }[] = []
  private readonly writes = new Map<string, number>()
  /** Every journal written, in order (null = cleared). */
  readonly journalLog: (Journal | null)[] = []
  /** Runs before each pending page is computed: the place to simulate application writes. */
  beforePage?: (collection: string, phase: PendingOptions['phase'], page: number) => void

  seed(collection: string, rows: { key: RowKey; text: string }[]): void {
    const mc = this.mc(collection, true)
    for (const r of rows) mc.rows.set(r.key, r.text)
  }

  /** An application write: a new row, or new text for an existing one. */
  upsertRow(collection: string, key: RowKey, text: string): void {
    this.mc(collection).rows.set(key, text)
  }

  /** A live generation embedform did not make (profile/fingerprint unknown), as found when adopting a table. */
  adoptLive(collection: string, opts: { dimensions: number; vector: (text: string) => Float32Array; indexed?: boolean }): void {
    const mc = this.mc(collection)
    const vectors = new Map<RowKey, { vector: Float32Array; token: string }>()
    for (const [k, t] of mc.rows) vectors.set(k, { vector: opts.vector(t), token: tokenOf(t) })
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
    return [...this.mc(collection).rows.keys()].map((k) => this.writeCount(collection, g, k))
  }

  vectorOf(collection: string, g: number, key: RowKey): Float32Array | undefined {
    return this.mc(collection).generations.get(g)?.vectors.get(key)?.vector
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
    const gen = this.mc(c.name).generations.get(g)
    if (!gen) throw failure('E_GENERATION_MISSING', `generation g${g} of ${c.name} does not exist`, { location: { object: `generation g${g}` } })
    return gen
  }

  private maybeFail(method: Method): void {
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
    for (const k of mc.rows.keys()) if (g.vectors.has(k)) populated++
    return {
      id: g.id,
      status: g.status,
      physical: this.physical(c, g),
      profile: g.profile,
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
    const mc = this.collections.get(c.name)
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
    const mc = this.mc(c.name)
    if (mc.lock) throw failure('E_LOCK_HELD', `collection ${c.name} is locked by ${mc.lock.holder} since ${mc.lock.since}`)
    const mine: LockInfo = { holder, since: new Date().toISOString() }
    mc.lock = mine
    return async () => {
      if (mc.lock === mine) mc.lock = null
    }
  }

  async createGeneration(c: Collection, g: GenerationSpec): Promise<void> {
    this.maybeFail('createGeneration')
    const mc = this.mc(c.name)
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
    })
  }

  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    const mc = this.mc(c.name)
    const gen = this.gen(c, generation)
    let after: RowKey | undefined
    for (let page = 0; ; page++) {
      this.beforePage?.(c.name, opts.phase, page)
      this.maybeFail('pending')
      const rows: PendingRow[] = [...mc.rows.entries()]
        .filter(([k, text]) => {
          if (after !== undefined && compareKeys(k, after) <= 0) return false
          const v = gen.vectors.get(k)
          return !v || (opts.phase === 'catchup' && v.token !== tokenOf(text))
        })
        .sort(([a], [b]) => compareKeys(a, b))
        .slice(0, opts.batchSize)
        .map(([key, text]) => ({ key, text, token: tokenOf(text) }))
      if (rows.length === 0) return
      after = rows[rows.length - 1]?.key
      yield rows
    }
  }

  async write(c: Collection, generation: number, rows: VectorRow[]): Promise<void> {
    this.maybeFail('write')
    const mc = this.mc(c.name)
    const gen = this.gen(c, generation)
    if (gen.status === 'live') throw failure('E_WRITE_LIVE', `refusing to write into live generation g${generation} of ${c.name}`)
    for (const r of rows) {
      if (r.vector.length !== gen.dimensions) {
        throw inputError('E_DIMENSIONS', `vector for ${String(r.key)} has ${r.vector.length} dimensions, g${generation} holds ${gen.dimensions}`)
      }
    }
    for (const r of rows) {
      const text = mc.rows.get(r.key)
      if (text === undefined || (r.token !== undefined && r.token !== tokenOf(text))) continue
      gen.vectors.set(r.key, { vector: r.vector, token: tokenOf(text) })
      const k = `${c.name}/${generation}/${String(r.key)}`
      this.writes.set(k, (this.writes.get(k) ?? 0) + 1)
    }
  }

  async buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void, settings?: IndexSettings): Promise<void> {
    this.maybeFail('buildIndex')
    const gen = this.gen(c, generation)
    if (settings) gen.indexSettings = settings
    const s = gen.indexSettings
    if (!s || s.pgvector.type === 'none') {
      gen.index = null
      return
    }
    gen.index = { name: `${c.name}_g${generation}_idx`, method: s.pgvector.type, valid: true, settingsHash: hashOf(s) }
    const total = gen.vectors.size
    onProgress?.(total, total)
  }

  async dropIndex(c: Collection, generation: number): Promise<void> {
    this.maybeFail('dropIndex')
    this.gen(c, generation).index = null
  }

  async verify(c: Collection, generation: number): Promise<VerifyReport> {
    this.maybeFail('verify')
    const mc = this.mc(c.name)
    const gen = this.gen(c, generation)
    let populated = 0
    let wrongDimensions = 0
    for (const k of mc.rows.keys()) {
      const v = gen.vectors.get(k)
      if (!v) continue
      populated++
      if (v.vector.length !== gen.dimensions) wrongDimensions++
    }
    const missing = mc.rows.size - populated
    const sampleKeys = [...gen.vectors.keys()].filter((k) => mc.rows.has(k)).slice(0, 5)
    let selfFound = 0
    for (const k of sampleKeys) {
      const hits = await this.search(c, generation, { vector: gen.vectors.get(k)?.vector as Float32Array, k: 3 })
      if (hits.some((h) => h.key === k)) selfFound++
    }
    const indexValid = gen.index ? gen.index.valid : null
    const problems = [
      ...(missing > 0 ? [`${missing} rows missing`] : []),
      ...(wrongDimensions > 0 ? [`${wrongDimensions} vectors with wrong dimensions`] : []),
      ...(indexValid === false ? ['index invalid'] : []),
    ]
    return { generation, total: mc.rows.size, populated, missing, wrongDimensions, indexValid, sample: { checked: sampleKeys.length, selfFound }, ok: problems.length === 0, problems }
  }

  async cutover(c: Collection, generation: number): Promise<void> {
    this.maybeFail('cutover')
    const mc = this.mc(c.name)
    const gen = this.gen(c, generation)
    if (mc.live === generation) return
    const prev = mc.live === null ? undefined : mc.generations.get(mc.live)
    if (prev) prev.status = 'retained'
    gen.status = 'live'
    mc.live = generation
  }

  async dropGeneration(c: Collection, generation: number): Promise<void> {
    this.maybeFail('dropGeneration')
    const mc = this.mc(c.name)
    if (mc.live === generation) throw failure('E_DROP_LIVE', `refusing to drop live generation g${generation} of ${c.name}`)
    mc.generations.delete(generation)
  }

  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const mc = this.mc(c.name)
    const gen = this.gen(c, generation)
    const scored: Hit[] = []
    for (const [key, { vector }] of gen.vectors) {
      const text = mc.rows.get(key)
      if (text === undefined) continue
      let dot = 0
      for (let i = 0; i < vector.length; i++) dot += (vector[i] as number) * (q.vector[i] ?? 0)
      scored.push({ key, score: dot, text })
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, q.k)
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    this.maybeFail('readJournal')
    const j = this.mc(c.name).journal
    return j ? structuredClone(j) : null
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    this.maybeFail('writeJournal')
    // Persisted as JSON, like the real adapters do: nothing shared with the engine's object.
    this.mc(c.name).journal = j ? (JSON.parse(JSON.stringify(j)) as Journal) : null
    this.journalLog.push(j ? (JSON.parse(JSON.stringify(j)) as Journal) : null)
  }

  async close(): Promise<void> {}
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
