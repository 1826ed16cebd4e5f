/**
 * The LanceDB store adapter.
 *
 * What LanceDB guarantees, and what this adapter builds on (checked against @lancedb/lancedb
 * 0.31.0 and its Lance 8 engine; every fact has a test in test/conformance.test.ts or
 * test/lancedb-facts.test.ts):
 * - Every write (add, update, merge_insert, delete, add/alter/drop columns, index builds) is one
 *   commit that creates a new table version; readers see a version whole or not at all.
 * - `alterColumns` renames several columns in ONE commit, a swap included (`embedding` →
 *   `embedding__g1` and `embedding__g2` → `embedding` together). That is the cutover: the
 *   application, which reads the column named `embedding`, sees the old generation's vectors up
 *   to one version and the new generation's from the next. Rollback is the same swap back.
 * - A vector index belongs to its column and follows a rename; field metadata does too, so each
 *   generation's column carries `embedform.generation = N` and the live pointer is simply which
 *   generation's column is named like the collection's vector column (no separate pointer that
 *   could disagree with what readers see).
 * - `addColumns` with Arrow fields adds all-null columns without rewriting data; `add` from an
 *   application that does not know those columns fills them with null.
 * - merge_insert on the key with only some columns updates just those columns of matched rows.
 * - A search that does not name its vector column works only while the table has one: LanceDB
 *   refuses it ("More than one vector columns found") as soon as a generation column exists. The
 *   application must search with `.column('<vector>')`; the README says so first.
 * - Vector search skips rows whose vector is null; rows added after an index was built are
 *   searched exactly until the index is rebuilt or optimized.
 * - IVF_PQ needs at least 256 rows to train; IVF_HNSW_SQ and IVF_FLAT train on fewer.
 * - Readers of another process see new versions only with `readConsistencyInterval: 0` (the
 *   default never re-checks); this adapter connects with 0.
 * - LanceDB has no triggers, no locks and no way to hold an application's writes. So the change
 *   queue is computed, not recorded: each vector is stored with a hash of the text it was made
 *   from (column `<vector>__t`), and a row is queued when its text no longer matches that hash,
 *   or when it has no vector and is new or changed since the generation was created (read from
 *   the table version of that moment: Lance keeps old versions until they are cleaned up, and a
 *   generation whose creation version was cleaned up queues every row without a vector).
 *   Computing it is a scan of key, text and hash columns: cost proportional to the table.
 * - The vector column is nullable, so a skipped row (profile zero_vectors: skip) is a null vector
 *   with the hash of its text: done while the hash matches, pending again once the text changes.
 *   Only a generation whose profile says skip reads a null with a matching hash as skipped (under
 *   keep, a null is only ever the application's, and missing).
 * - The cutover cannot block writers: it embeds what is pending, then switches only if the
 *   table version did not move since its last scan found nothing pending. A write committed in
 *   the moment between that check and the rename commit is not lost: freshness shows it stale or
 *   missing in the new live generation and the next `sync` or catch-up embeds it.
 */
import { performance } from 'node:perf_hooks'
import { Index, type Connection, type Table } from '@lancedb/lancedb'
import {
  failure,
  inputError,
  stableHash,
  type AdapterCapabilities,
  type Collection,
  type CutoverOptions,
  type CutoverResult,
  type Freshness,
  type GenerationSpec,
  type GenerationState,
  type Hit,
  type IndexSettings,
  type IndexState,
  type Journal,
  type LiveState,
  type PendingOptions,
  type PendingRow,
  type PreflightDesired,
  type PreflightProblem,
  type Release,
  type RowKey,
  type SearchQuery,
  type StoreAdapter,
  type VectorRow,
  type VerifyReport,
  type WriteOptions,
} from 'embedform/plugin'
import { arrow, makeArrowTable } from './arrow.js'
import { lanceIndex, type LanceIndexSettings } from './settings.js'
import { StateStore, type GenerationRecord } from './state.js'
import { col, keyOf, literal, rowText, textColumns, textHash } from './rows.js'

const GENERATION_KEY = 'embedform.generation'
/** Rows read per scan page: bounded memory whatever the table size. */
const SCAN_PAGE = 5000
const SAMPLE = 20
/** Rounds of embed-then-check a cutover makes before it reports `behind`. */
const CUTOVER_ROUNDS = 5

interface Column {
  name: string
  generation: number
  dimensions: number
}

/** The generation's profile says zero_vectors: skip (older records have no such setting: keep). */
function skipsZeroVectors(record: GenerationRecord | null): boolean {
  return record?.profileSnapshot?.zeroVectors === 'skip'
}

interface Scanned {
  key: RowKey
  text: string
  hash: string | null
  hasVector: boolean
}

export class LanceDbAdapter implements StoreAdapter {
  readonly kind = 'lancedb'
  readonly capabilities: AdapterCapabilities = {
    concurrentIndex: true,
    hybridSearch: false,
    inPlaceIndexRebuild: true,
    // Lance stores fixed-size lists of any length; this plugin keeps float32 only (see the rules).
    maxIndexDimensions: { vector: 16_000, halfvec: 0 },
  }
  private readonly state: StateStore

  constructor(
    private readonly db: Connection,
    dir: string,
  ) {
    this.state = new StateStore(db, dir)
  }

  private async table(c: Collection): Promise<Table | null> {
    return (await this.db.tableNames()).includes(c.target) ? this.db.openTable(c.target) : null
  }

  private async requireTable(c: Collection): Promise<Table> {
    const t = await this.table(c)
    if (!t) throw inputError('E_COLLECTION_MISSING', `LanceDB table ${c.target} does not exist`, { location: { object: c.target }, hint: 'create the table first, or fix `table` in embedding.config.yaml' })
    return t
  }

  /** Vector columns of the collection: the live one (named `c.vector`) and every generation's. */
  private async columns(c: Collection, t: Table): Promise<{ vectors: Column[]; names: Set<string> }> {
    const schema = await t.schema()
    const names = new Set(schema.fields.map((f) => f.name))
    const vectors: Column[] = []
    for (const f of schema.fields) {
      if (!arrow.DataType.isFixedSizeList(f.type)) continue
      const stamped = f.metadata.get(GENERATION_KEY)
      const generation = stamped !== undefined ? Number(stamped) : f.name === c.vector ? 1 : null
      const ours = f.name === c.vector || f.name.startsWith(`${c.vector}__g`)
      if (ours && generation !== null) vectors.push({ name: f.name, generation, dimensions: (f.type as { listSize: number }).listSize })
    }
    return { vectors, names }
  }

  /** Where a generation lives while it is not live; the live one is named `c.vector`. */
  private parked(c: Collection, id: number): string {
    return `${c.vector}__g${id}`
  }

  private async generation(c: Collection, id: number): Promise<{ t: Table; column: Column; record: GenerationRecord | null; hashColumn: string | null; live: boolean }> {
    const t = await this.requireTable(c)
    const { vectors, names } = await this.columns(c, t)
    const column = vectors.find((v) => v.generation === id)
    if (!column) throw failure('E_GENERATION_MISSING', `generation g${id} of ${c.name} does not exist`, { location: { object: `${c.target}.${c.vector}__g${id}` } })
    const record = (await this.state.generations(c.target)).find((r) => r.id === id) ?? null
    const hashColumn = names.has(`${column.name}__t`) ? `${column.name}__t` : null
    return { t, column, record, hashColumn, live: column.name === c.vector }
  }

  async inspect(c: Collection): Promise<LiveState> {
    const t = await this.table(c)
    const [lock, journal] = await Promise.all([this.state.lockInfo(c.target), this.state.journal(c.target)])
    if (!t) return { collection: c.name, exists: false, rows: 0, rowsExact: true, generations: [], live: null, lock, journal, version: stableHash({ exists: false }) }
    const [{ vectors }, records, indexes, rows] = await Promise.all([this.columns(c, t), this.state.generations(c.target), t.listIndices(), t.countRows()])
    const generations: GenerationState[] = []
    for (const v of vectors.sort((a, b) => a.generation - b.generation)) {
      const id = v.generation
      const record = records.find((r) => r.id === id) ?? null
      const live = v.name === c.vector
      const index = indexes.find((i) => i.columns.includes(v.name))
      const indexState: IndexState | null = index
        ? { name: index.name, method: index.indexType, valid: true, settingsHash: record?.indexSettings ? indexHash(record.indexSettings) : stableHash(index.indexType) }
        : null
      generations.push({
        id,
        status: live ? 'live' : record === null || record.wasLive ? 'retained' : 'building',
        physical: v.name,
        profile: record?.profile ?? (record?.adopted || (!record && live) ? (c.adoptedProfile ?? null) : null),
        fingerprint: record?.fingerprint ?? null,
        model: record?.model ?? null,
        dimensions: v.dimensions,
        storage: record?.storage ?? 'vector',
        populated: await t.countRows(`${col(v.name)} IS NOT NULL`),
        index: indexState,
        indexSettings: record?.indexSettings ?? null,
        profileSnapshot: record?.profileSnapshot ?? null,
        createdAt: record?.createdAt ?? new Date(0).toISOString(),
      })
    }
    const live = generations.find((g) => g.status === 'live')?.id ?? null
    const version = stableHash({
      live,
      generations: generations.map((g) => ({ id: g.id, status: g.status, physical: g.physical, fingerprint: g.fingerprint, dimensions: g.dimensions, indexSettings: g.indexSettings, index: g.index })),
    })
    return { collection: c.name, exists: true, rows, rowsExact: true, generations, live, lock, journal, version }
  }

  /** Read-only: what would make apply fail, or surprise the application, found before anything changes. */
  async preflight(c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]> {
    const t = await this.table(c)
    if (!t) return [{ code: 'E_COLLECTION_MISSING', severity: 'error', message: `LanceDB table ${c.target} does not exist`, object: c.target, hint: 'create the table first, or fix `table` in embedding.config.yaml' }]
    const fields = new Map((await t.schema()).fields.map((f) => [f.name, f]))
    const problems: PreflightProblem[] = []
    for (const name of [c.key, ...textColumns(c)]) {
      if (!fields.has(name)) problems.push({ code: 'E_COLUMN_MISSING', severity: 'error', message: `table ${c.target} has no column ${name}`, object: `${c.target}.${name}`, hint: 'fix `key` / `text` in embedding.config.yaml' })
    }
    const live = fields.get(c.vector)
    if (live && !arrow.DataType.isFixedSizeList(live.type)) {
      problems.push({
        code: 'E_VECTOR_TYPE',
        severity: 'error',
        message: `column ${c.vector} is ${String(live.type)}, not a fixed-size list of floats: LanceDB cannot search it as vectors`,
        object: `${c.target}.${c.vector}`,
        hint: 'create the column with an Arrow schema (FixedSizeList of Float32), or name another `vector` column',
      })
    }
    if (desired.storage !== 'vector') problems.push({ code: 'E_STORAGE', severity: 'error', message: `the LanceDB plugin stores float32 vectors, not ${desired.storage}`, object: c.target, hint: 'set index.storage: vector in the profile' })
    const vectorColumns = [...fields.values()].filter((f) => arrow.DataType.isFixedSizeList(f.type))
    if (desired.createsObjects && vectorColumns.length <= 1) {
      problems.push({
        code: 'W_SEARCH_COLUMN',
        severity: 'warning',
        message: `once ${c.target} has a second vector column, LanceDB refuses searches that do not name theirs`,
        object: `${c.target}.${c.vector}`,
        hint: `make the application search with .column('${c.vector}')`,
      })
    }
    return problems
  }

  async lock(c: Collection, holder: string): Promise<Release> {
    return this.state.lock(c.target, holder)
  }

  async createGeneration(c: Collection, g: GenerationSpec): Promise<void> {
    if (!Number.isInteger(g.dimensions) || g.dimensions < 1 || g.dimensions > this.capabilities.maxIndexDimensions.vector) {
      throw inputError('E_DIMENSIONS', `${g.dimensions} dimensions cannot be stored in a LanceDB vector column (1–${this.capabilities.maxIndexDimensions.vector})`, { location: { object: `${c.target}.${c.vector}` } })
    }
    if (g.storage !== 'vector') throw inputError('E_STORAGE', `the LanceDB plugin stores float32 vectors, not ${g.storage}`, { hint: 'set index.storage: vector in the profile' })
    const t = await this.requireTable(c)
    const { vectors, names } = await this.columns(c, t)
    const records = await this.state.generations(c.target)
    if (vectors.some((v) => v.generation === g.id) && records.some((r) => r.id === g.id)) return
    await this.recordAdoption(c, t, vectors, records)
    const name = this.parked(c, g.id)
    if (!names.has(name)) {
      const meta = new Map([[GENERATION_KEY, String(g.id)]])
      const vector = new arrow.FixedSizeList(g.dimensions, new arrow.Field('item', new arrow.Float32(), true))
      await t.addColumns([new arrow.Field(name, vector, true, meta), new arrow.Field(`${name}__t`, new arrow.Utf8(), true)])
    }
    await this.state.putGeneration(c.target, {
      id: g.id,
      profile: g.profile,
      fingerprint: g.fingerprint,
      model: g.model,
      dimensions: g.dimensions,
      storage: g.storage,
      normalized: g.normalized,
      indexSettings: g.index,
      profileSnapshot: g.profileSnapshot,
      createdAt: new Date().toISOString(),
      createdVersion: await t.version(),
      wasLive: false,
    })
  }

  /**
   * The application's own vector column (live, unstamped, no record) is remembered with the table
   * version at which embedform first built next to it: a text edited after that makes its vector stale.
   */
  private async recordAdoption(c: Collection, t: Table, vectors: Column[], records: GenerationRecord[]): Promise<void> {
    const own = vectors.find((v) => v.name === c.vector && !records.some((r) => r.id === v.generation))
    if (!own) return
    await this.state.putGeneration(c.target, {
      id: own.generation,
      profile: null,
      fingerprint: null,
      model: null,
      dimensions: own.dimensions,
      storage: 'vector',
      normalized: false,
      indexSettings: null,
      profileSnapshot: null,
      createdAt: new Date().toISOString(),
      createdVersion: await t.version(),
      wasLive: true,
      adopted: true,
    })
  }

  /** Pages of rows (key order) matching `where`, with their text, recorded hash and whether they hold a vector. */
  private async *scan(c: Collection, t: Table, vectorColumn: string, hashColumn: string | null, where: string | null): AsyncIterable<Scanned[]> {
    const columns: Record<string, string> = { k: col(c.key), v: `${col(vectorColumn)} IS NOT NULL`, ...(hashColumn ? { h: col(hashColumn) } : {}) }
    for (const name of textColumns(c)) columns[`t_${name}`] = col(name)
    let after: RowKey | undefined
    for (;;) {
      const filters = [where, after === undefined ? null : `${col(c.key)} > ${literal(after)}`].filter((f): f is string => f !== null)
      let q = t.query().select(columns).orderBy({ columnName: c.key, ascending: true }).limit(SCAN_PAGE)
      if (filters.length > 0) q = q.where(filters.map((f) => `(${f})`).join(' AND '))
      const batch = await q.toArray()
      if (batch.length === 0) return
      const page = batch.map((r: Record<string, unknown>) => {
        const fields = Object.fromEntries(textColumns(c).map((name) => [name, r[`t_${name}`]]))
        return { key: keyOf(r.k), text: rowText(c, fields), hash: hashColumn ? ((r.h as string | null) ?? null) : null, hasVector: Boolean(r.v) }
      })
      yield page
      after = page[page.length - 1]!.key
      if (batch.length < SCAN_PAGE) return
    }
  }

  /** Text hashes by key as of the generation's creation: what a row is compared with to tell new work from backfill work. */
  private async createdHashes(c: Collection, record: GenerationRecord | null): Promise<Map<string, string> | null> {
    if (!record) return null
    const old = await this.db.openTable(c.target)
    try {
      await old.checkout(record.createdVersion)
    } catch {
      return null
    }
    const out = new Map<string, string>()
    const columns: Record<string, string> = { k: col(c.key) }
    for (const name of textColumns(c)) columns[`t_${name}`] = col(name)
    for (const r of await old.query().select(columns).toArray()) {
      const fields = Object.fromEntries(textColumns(c).map((name) => [name, (r as Record<string, unknown>)[`t_${name}`]]))
      out.set(String(keyOf((r as Record<string, unknown>).k)), textHash(rowText(c, fields)))
    }
    old.close()
    return out
  }

  /** Every row's freshness in one scan; `queued` is the computed change queue (see the header). */
  private async classify(c: Collection, id: number) {
    const g = await this.generation(c, id)
    const created = await this.createdHashes(c, g.record)
    const skip = skipsZeroVectors(g.record)
    const out = { rows: 0, fresh: 0, unverified: 0, skipped: 0, stale: [] as PendingRow[], missing: [] as PendingRow[], queuedMissing: new Set<string>() }
    for await (const page of this.scan(c, g.t, g.column.name, g.hashColumn, null)) {
      for (const r of page) {
        out.rows++
        const token = textHash(r.text)
        const pending: PendingRow = { key: r.key, text: r.text, token }
        if (!r.hasVector && skip && r.hash === token) out.skipped++
        else if (!r.hasVector) {
          out.missing.push(pending)
          if (created === null || created.get(String(r.key)) !== token) out.queuedMissing.add(String(r.key))
        } else if (r.hash === null) {
          // No recorded text. An adopted generation's vectors are of unknown origin: unverified until
          // the text changes after adoption. In a generation embedform made, someone else wrote it.
          if (g.record === null || (g.record.adopted && created?.get(String(r.key)) === token)) out.unverified++
          else out.stale.push(pending)
        } else if (r.hash === token) out.fresh++
        else out.stale.push(pending)
      }
    }
    return { ...g, ...out }
  }

  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    if (opts.phase === 'catchup') {
      const s = await this.classify(c, generation)
      const queued = [...s.stale, ...s.missing.filter((r) => s.queuedMissing.has(String(r.key)))].sort((a, b) => compareKeys(a.key, b.key))
      for (let i = 0; i < queued.length; i += opts.batchSize) yield queued.slice(i, i + opts.batchSize)
      return
    }
    const g = await this.generation(c, generation)
    const skip = skipsZeroVectors(g.record)
    let buffer: PendingRow[] = []
    for await (const page of this.scan(c, g.t, g.column.name, g.hashColumn, `${col(g.column.name)} IS NULL`)) {
      const rows = page.map((r) => ({ key: r.key, text: r.text, token: textHash(r.text), hash: r.hash }))
      buffer.push(...rows.filter((r) => !(skip && r.hash === r.token)).map(({ key, text, token }) => ({ key, text, token })))
      while (buffer.length >= opts.batchSize) {
        yield buffer.slice(0, opts.batchSize)
        buffer = buffer.slice(opts.batchSize)
      }
    }
    if (buffer.length > 0) yield buffer
  }

  async write(c: Collection, generation: number, rows: VectorRow[], opts: WriteOptions = {}): Promise<void> {
    const g = await this.generation(c, generation)
    if (g.live && !opts.live) throw failure('E_WRITE_LIVE', `refusing to write into live generation g${generation} of ${c.name}`, { location: { object: `${c.target}.${g.column.name}` } })
    await this.store(c, g.t, g.column, rows)
  }

  /**
   * Keeps only rows whose text still hashes to their token (the text changed since it was read:
   * the row stays queued), then one merge_insert of key, vector and hash. A text edit between the
   * check and the commit leaves a truthful record: the hash is of the text that was embedded.
   */
  private async store(c: Collection, t: Table, column: Column, rows: VectorRow[]): Promise<number> {
    if (rows.length === 0) return 0
    for (const r of rows) {
      if (r.vector !== null && r.vector.length !== column.dimensions) {
        throw inputError('E_DIMENSIONS', `vector for ${String(r.key)} has ${r.vector.length} dimensions, ${column.name} holds ${column.dimensions}`, { location: { object: `${c.target}.${column.name}` } })
      }
    }
    const current = new Map<string, string>()
    const columns: Record<string, string> = { k: col(c.key) }
    for (const name of textColumns(c)) columns[`t_${name}`] = col(name)
    for (let i = 0; i < rows.length; i += 1000) {
      const keys = rows.slice(i, i + 1000).map((r) => literal(r.key))
      for (const r of await t.query().where(`${col(c.key)} IN (${keys.join(', ')})`).select(columns).toArray()) {
        const fields = Object.fromEntries(textColumns(c).map((name) => [name, (r as Record<string, unknown>)[`t_${name}`]]))
        current.set(String(keyOf((r as Record<string, unknown>).k)), textHash(rowText(c, fields)))
      }
    }
    const keep = rows.filter((r) => current.has(String(r.key)) && (r.token === undefined || r.token === current.get(String(r.key))))
    if (keep.length === 0) return 0
    // An adopted generation has no hash column until embedform first writes into it.
    if (!(await t.schema()).fields.some((f) => f.name === `${column.name}__t`)) await t.addColumns([new arrow.Field(`${column.name}__t`, new arrow.Utf8(), true)])
    const schema = await t.schema()
    const keyField = schema.fields.find((f) => f.name === c.key)!
    const vectorField = schema.fields.find((f) => f.name === column.name)!
    const partial = new arrow.Schema([keyField, vectorField, new arrow.Field(`${column.name}__t`, new arrow.Utf8(), true)])
    // A null vector (a skipped row) is a null in the nullable column, with its text's hash beside it.
    const data = keep.map((r) => ({ [c.key]: r.key, [column.name]: r.vector === null ? null : Array.from(r.vector), [`${column.name}__t`]: r.token ?? current.get(String(r.key))! }))
    await t.mergeInsert(c.key).whenMatchedUpdateAll().execute(makeArrowTable(data, { schema: partial }))
    return keep.length
  }

  async freshness(c: Collection, generation: number): Promise<Freshness> {
    const s = await this.classify(c, generation)
    return {
      generation,
      rows: s.rows,
      fresh: s.fresh,
      stale: s.stale.length,
      missing: s.missing.length,
      skipped: s.skipped,
      unverified: s.unverified,
      queued: s.stale.length + s.queuedMissing.size,
      exact: true,
    }
  }

  async buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void, settings?: IndexSettings): Promise<void> {
    const g = await this.generation(c, generation)
    if (settings && g.record) await this.state.putGeneration(c.target, { ...g.record, indexSettings: settings })
    const s = settings ?? g.record?.indexSettings ?? null
    const ix = lanceIndex(s)
    const name = indexName(c, generation)
    if (ix.type === 'none') {
      await this.dropIndex(c, generation)
      return
    }
    const rows = await g.t.countRows(`${col(g.column.name)} IS NOT NULL`)
    if (ix.type === 'ivf_pq' && rows < 256) {
      throw failure('E_INDEX_ROWS', `LanceDB needs at least 256 vectors to train an IVF_PQ index; g${generation} of ${c.name} has ${rows}`, { hint: 'use index.lancedb.type: ivf_hnsw_sq (the default) for small tables' })
    }
    await g.t.createIndex(g.column.name, { config: indexConfig(ix, s?.metric ?? 'cosine', rows), name, replace: true })
    onProgress?.(rows, rows)
  }

  async dropIndex(c: Collection, generation: number): Promise<void> {
    const g = await this.generation(c, generation)
    for (const i of await g.t.listIndices()) if (i.columns.includes(g.column.name)) await g.t.dropIndex(i.name)
  }

  async verify(c: Collection, generation: number): Promise<VerifyReport> {
    const s = await this.classify(c, generation)
    const metric = s.record?.indexSettings?.metric ?? 'cosine'
    const index = (await s.t.listIndices()).find((i) => i.columns.includes(s.column.name))
    const sample: { key: RowKey; vector: Float32Array }[] = []
    let zeroVectors = 0
    // Every vector is read once for the zero check, a page at a time (memory stays bounded); the
    // sample is spread evenly over the key order.
    const stride = Math.max(1, Math.floor((s.rows - s.missing.length - s.skipped) / SAMPLE))
    let seen = 0
    let after: RowKey | undefined
    for (;;) {
      const where = [`${col(s.column.name)} IS NOT NULL`, ...(after === undefined ? [] : [`${col(c.key)} > ${literal(after)}`])].join(' AND ')
      const page = await s.t.query().where(where).select({ k: col(c.key), v: col(s.column.name) }).orderBy({ columnName: c.key, ascending: true }).limit(SCAN_PAGE).toArray()
      for (const r of page as { k: unknown; v: { toArray(): Float32Array } }[]) {
        const vector = Float32Array.from(r.v.toArray())
        if (vector.every((x) => x === 0)) zeroVectors++
        else if (seen++ % stride === 0 && sample.length < SAMPLE) sample.push({ key: keyOf(r.k), vector })
      }
      if (page.length < SCAN_PAGE) break
      after = keyOf((page[page.length - 1] as { k: unknown }).k)
    }
    let selfFound = 0
    let recallSum = 0
    for (const probe of sample) {
      const exact = await this.nearest(c, s.t, s.column.name, probe.vector, 10, metric, true)
      if (exact.some((h) => String(h.key) === String(probe.key) || h.distance <= 1e-6)) selfFound++
      if (index) {
        const approx = new Set((await this.nearest(c, s.t, s.column.name, probe.vector, 10, metric, false)).map((h) => String(h.key)))
        recallSum += exact.filter((h) => approx.has(String(h.key))).length / Math.max(exact.length, 1)
      }
    }
    const unqueuedMissing = s.missing.length - s.queuedMissing.size
    const problems = [
      ...(unqueuedMissing > 0 ? [`${unqueuedMissing} rows missing a vector`] : []),
      ...(selfFound < sample.length ? [`${sample.length - selfFound} of ${sample.length} sampled rows do not find themselves`] : []),
    ]
    return {
      generation,
      total: s.rows,
      populated: s.rows - s.missing.length - s.skipped,
      missing: s.missing.length,
      skipped: s.skipped,
      stale: s.stale.length,
      // The queue is computed from the very record it would be checked against: nothing can be untracked.
      untracked: 0,
      zeroVectors,
      // A fixed-size list column cannot hold a vector of another length.
      wrongDimensions: 0,
      indexValid: index ? true : null,
      sample: { checked: sample.length, selfFound },
      indexRecall: index && sample.length > 0 ? recallSum / sample.length : null,
      ok: problems.length === 0,
      problems,
    }
  }

  private async nearest(c: Collection, t: Table, column: string, vector: Float32Array, k: number, metric: string, exact: boolean): Promise<{ key: RowKey; distance: number; row: Record<string, unknown> }[]> {
    let q = t.vectorSearch(Array.from(vector)).column(column).distanceType(distanceType(metric)).limit(k)
    if (exact) q = q.bypassVectorIndex()
    const rows = await q.select([c.key, ...textColumns(c), '_distance']).toArray()
    return rows.map((r: Record<string, unknown>) => ({ key: keyOf(r[c.key]), distance: Number(r._distance), row: r }))
  }

  async cutover(c: Collection, generation: number, opts: CutoverOptions): Promise<CutoverResult> {
    const started = performance.now()
    let embedded = 0
    for (let round = 0; round < CUTOVER_ROUNDS; round++) {
      const before = await (await this.requireTable(c)).version()
      const s = await this.classify(c, generation)
      const pending = [...s.stale, ...s.missing].sort((a, b) => compareKeys(a.key, b.key))
      if (pending.length > 0) {
        if (opts.embed && embedded + pending.length <= opts.maxHeldRows) {
          embedded += await this.store(c, s.t, s.column, await opts.embed(pending))
          continue
        }
        if (!opts.acceptStale) return { status: 'behind', pending: pending.length, heldMs: performance.now() - started }
      } else if ((await s.t.version()) !== before) continue
      const swapStarted = performance.now()
      await this.swap(c, s.t, generation, s.record)
      const now = performance.now()
      return { status: 'done', heldMs: now - started, swapMs: now - swapStarted, embeddedWhileHeld: embedded, leftStale: pending.length }
    }
    const s = await this.freshness(c, generation)
    return { status: 'behind', pending: s.stale + s.missing, heldMs: performance.now() - started }
  }

  /** One alterColumns commit renames the live generation's columns away and the target's into place. */
  private async swap(c: Collection, t: Table, generation: number, record: GenerationRecord | null): Promise<void> {
    const { vectors, names } = await this.columns(c, t)
    const target = vectors.find((v) => v.generation === generation)!
    if (target.name === c.vector) return
    const live = vectors.find((v) => v.name === c.vector)
    const renames: { path: string; rename: string }[] = []
    if (live) {
      const away = this.parked(c, live.generation)
      // An adopted column carries no generation stamp; it needs one before it loses its name.
      if ((await t.schema()).fields.find((f) => f.name === c.vector)!.metadata.get(GENERATION_KEY) === undefined) {
        await t.updateFieldMetadata([{ path: c.vector, metadata: { [GENERATION_KEY]: String(live.generation) } }])
      }
      renames.push({ path: c.vector, rename: away })
      if (names.has(`${c.vector}__t`)) renames.push({ path: `${c.vector}__t`, rename: `${away}__t` })
    }
    renames.push({ path: target.name, rename: c.vector })
    if (names.has(`${target.name}__t`)) renames.push({ path: `${target.name}__t`, rename: `${c.vector}__t` })
    await t.alterColumns(renames)
    if (record && !record.wasLive) await this.state.putGeneration(c.target, { ...record, wasLive: true })
  }

  async dropGeneration(c: Collection, generation: number): Promise<void> {
    const t = await this.requireTable(c)
    const { vectors, names } = await this.columns(c, t)
    const column = vectors.find((v) => v.generation === generation)
    if (column?.name === c.vector) {
      throw failure('E_GENERATION_LIVE', `refusing to drop live generation g${generation} of ${c.name}`, { location: { object: `${c.target}.${c.vector}` }, hint: 'cut over to another generation first' })
    }
    if (column) {
      await this.dropIndex(c, generation)
      await t.dropColumns([column.name, ...(names.has(`${column.name}__t`) ? [`${column.name}__t`] : [])])
    }
    await this.state.dropGeneration(c.target, generation)
  }

  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const g = await this.generation(c, generation)
    const metric = g.record?.indexSettings?.metric ?? 'cosine'
    const hits = await this.nearest(c, g.t, g.column.name, q.vector, q.k, metric, false)
    return hits.map((h) => ({ key: h.key, score: scoreOf(metric, h.distance), text: rowText(c, h.row) }))
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    return this.state.journal(c.target)
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    await this.state.setJournal(c.target, j)
  }

  async close(): Promise<void> {
    this.db.close()
  }
}

function compareKeys(a: RowKey, b: RowKey): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
}

function indexName(c: Collection, generation: number): string {
  return `${c.vector}__g${generation}_idx`
}

/** What the planner compares: only the settings LanceDB uses. */
function indexHash(s: IndexSettings): string {
  return stableHash({ metric: s.metric, lancedb: lanceIndex(s) })
}

function distanceType(metric: string): 'cosine' | 'l2' | 'dot' {
  return metric === 'l2' ? 'l2' : metric === 'ip' ? 'dot' : 'cosine'
}

/** LanceDB returns distances (cosine: 1 − cos, dot: 1 − x·y, l2: squared); hits carry higher-is-better scores. */
function scoreOf(metric: string, distance: number): number {
  return metric === 'l2' ? 1 / (1 + distance) : 1 - distance
}

function indexConfig(ix: LanceIndexSettings, metric: string, rows: number) {
  // LanceDB's own default is √rows partitions; small tables get one.
  const numPartitions = ix.partitions ?? Math.max(1, Math.floor(Math.sqrt(rows) / 4))
  const distance = distanceType(metric)
  return ix.type === 'ivf_flat'
    ? Index.ivfFlat({ distanceType: distance, numPartitions })
    : ix.type === 'ivf_pq'
      ? Index.ivfPq({ distanceType: distance, numPartitions, ...(ix.subVectors ? { numSubVectors: ix.subVectors } : {}) })
      : Index.hnswSq({ distanceType: distance, numPartitions, m: ix.m, efConstruction: ix.efConstruction })
}
