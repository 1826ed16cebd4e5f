import { createHash } from 'node:crypto'
import { hostname } from 'node:os'
import { EmbedformError, failure, inputError } from '../../src/core/errors.js'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection, IndexSettings, Metric, VectorStorage } from '../../src/core/types.js'
import type {
  AdapterCapabilities,
  QueueSlices,
  FailedItem,
  KeyRange,
  LeaseClaim,
  LeaseOptions,
  ChangeListener,
  ChangeSubscription,
  CutoverOptions,
  CutoverResult,
  Freshness,
  GenerationSpec,
  GenerationState,
  Hit,
  Journal,
  LiveState,
  LockInfo,
  PendingOptions,
  PipelineMeasurement,
  PipelineProbe,
  PreflightDesired,
  PreflightProblem,
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
import { zeroVectorPolicy } from '../../src/core/zero-vectors.js'
import { columnFacts, indexFacts, tableFacts, type ColumnFacts, type IndexFacts, type TableFacts } from './catalog.js'
import { changeRecord, changeRecordExists, forgetGeneration, installChangeRecord, queueHighWater } from './changes.js'
import { sqlState, type Driver, type Queryable } from './driver.js'
import { consumeQueue, estimatedFreshness, exactCounts, queuePage, sliceFilter, toPending } from './freshness.js'
import { quoteIdent } from './identifiers.js'
import * as failedRecord from './failed-items.js'
import * as leases from './leases.js'
import { retryOnLockTimeout } from './retry.js'
import { sampleRows } from './sample.js'
import { replicaLagMs } from './lag.js'
import { dependentViews, recreateView } from './views.js'
import { probePipeline } from './probe.js'
import { compactUpdatedRows, restoreRowLayout } from './row-layout.js'
import { tokenHash, tokenSql } from './row-token.js'
import { preflight } from './preflight.js'
import * as state from './state.js'
import { generationColumn, indexName, resolveTable, textExpression, type TableRef } from './table-ref.js'
import { writeInRounds, writeVectors, WRITE_BATCH, type WriteTarget } from './write-path.js'

export interface PgvectorAdapterOptions {
  /** maintenance_work_mem for index builds; HNSW builds are far faster when the graph fits. */
  maintenanceWorkMem: string
  /** lock_timeout for each DDL statement (ADD COLUMN, cutover renames). */
  lockTimeout: string
  /** Whether close() closes the driver (false when a caller shares one driver). */
  ownsDriver: boolean
  /** Where lock waits are reported (the CLI's log). */
  log?: (message: string) => void
}

const DEFAULT_OPTIONS: PgvectorAdapterOptions = { maintenanceWorkMem: '512MB', lockTimeout: '2s', ownsDriver: true }
const ADVISORY_CLASS = 0x656d62 // "emb": keeps embedform's advisory locks apart from the application's
const EXACT_COUNT_BELOW = 100_000
/** Rows verify looks up: exact self-find on each, and the index's recall@SAMPLE_K against exact search. */
const SAMPLE_ROWS = 20
const SAMPLE_K = 10
const MAX_DIMENSIONS: Record<VectorStorage, number> = { vector: 16_000, halfvec: 16_000 }

const DISTANCE: Record<Metric, { op: string; opclass: string; score: (d: number) => number }> = {
  cosine: { op: '<=>', opclass: 'cosine_ops', score: (d) => 1 - d },
  l2: { op: '<->', opclass: 'l2_ops', score: (d) => -d },
  ip: { op: '<#>', opclass: 'ip_ops', score: (d) => -d },
}

function hash(v: unknown): string {
  return createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16)
}

/** The part of the index settings pgvector uses; compare it with the desired profile's. */
export function pgIndexSettingsHash(s: IndexSettings): string {
  const p = s.pgvector
  return hash({ metric: s.metric, storage: s.storage, type: p.type, m: p.m, efConstruction: p.efConstruction, lists: p.lists ?? null })
}

function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`
}

function objectName(ref: TableRef, column?: string): string {
  return column ? `column ${ref.schema}.${ref.table}.${column}` : `table ${ref.schema}.${ref.table}`
}

/** Wraps driver errors into EmbedformErrors naming the store object involved. */
function storeError(op: string, object: string, err: unknown): EmbedformError {
  if (err instanceof EmbedformError) return err
  const code = sqlState(err)
  const message = err instanceof Error ? err.message : String(err)
  return failure('E_STORE', `${op} failed: ${message}${code ? ` (SQLSTATE ${code})` : ''}`, { location: { object }, cause: err })
}

/**
 * A backfill page in key order through the key's index, whatever the planner guesses. A new
 * generation's column has no statistics, so `IS NULL` looks rare to the planner, which then
 * prefers reading every remaining row, building its text and hash, and sorting them for each
 * page: quadratic in the table (measured: 129 ms against 3 ms per page at 50k rows; the bert-tiny
 * backfill of 200k rows ran at 0.45× the encoder). Walking the index from the last key reads
 * about one page's rows.
 */
async function inKeyOrder<T extends Record<string, unknown>>(driver: Driver, q: { sql: string; params: unknown[] }): Promise<{ rows: T[] }> {
  return driver.transaction(async (tx) => {
    await tx.query(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)`)
    return tx.query<T>(q.sql, q.params)
  })
}

/** A cutover that found more pending rows than it may embed while holding writes. */
class HeldBehind extends Error {
  constructor(readonly pending: number) {
    super(`${pending} rows pending`)
  }
}

/**
 * StoreAdapter for PostgreSQL + pgvector, on a server or on PGlite. It speaks SQL through a
 * Driver and never decides what happens next: the engine orchestrates.
 */
export class PgvectorAdapter implements StoreAdapter {
  readonly capabilities: AdapterCapabilities
  private readonly options: PgvectorAdapterOptions
  /** PGlite has one process (guarded by the data-dir lock), so its migration locks live here. */
  private readonly localLocks = new Map<string, Release>()
  /** embedform.leases is known to exist (sync slices claim often). */
  private leasesReady = false
  /** Native locks still held, released by close() so the pool can end. */
  private readonly heldLocks = new Set<Release>()

  constructor(
    readonly kind: 'pgvector' | 'pglite',
    private readonly driver: Driver,
    options: Partial<PgvectorAdapterOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options }
    this.capabilities = { concurrentIndex: driver.native, hybridSearch: false, inPlaceIndexRebuild: true, maxIndexDimensions: { vector: 2_000, halfvec: 4_000 }, batch: WRITE_BATCH }
  }

  private async guard<T>(op: string, ref: TableRef, fn: () => Promise<T>, column?: string): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw storeError(op, objectName(ref, column), err)
    }
  }

  private async requireTable(ref: TableRef) {
    const facts = await tableFacts(this.driver, ref)
    if (!facts) {
      throw failure('E_TABLE_MISSING', `table ${ref.schema}.${ref.table} does not exist`, { location: { object: objectName(ref) } })
    }
    return facts
  }

  /** Registered generations, or the adopted one when embedform has not recorded anything yet. */
  private async records(c: Collection, ref: TableRef): Promise<state.GenerationRecord[]> {
    const gens = (await state.stateExists(this.driver)) ? await state.readGenerations(this.driver, ref.collectionKey) : []
    if (gens.length > 0) return gens
    const table = await tableFacts(this.driver, ref)
    const adopted = table ? this.adoptedRecord(c, (await columnFacts(this.driver, table.oid)).get(c.vector)) : null
    return adopted ? [{ ...adopted, createdAt: new Date(0).toISOString() }] : []
  }

  private async requireGeneration(c: Collection, ref: TableRef, id: number): Promise<state.GenerationRecord> {
    const g = (await this.records(c, ref)).find((x) => x.id === id)
    if (!g) {
      throw failure('E_GENERATION_MISSING', `generation ${id} of ${ref.collectionKey} is not registered`, {
        location: { object: objectName(ref, generationColumn(ref, id)) },
      })
    }
    return g
  }

  /** A table embedform has never seen but whose vector column exists: generation 1, live. */
  private adoptedRecord(c: Collection, column: ColumnFacts | undefined): Omit<state.GenerationRecord, 'createdAt'> | null {
    if (!column?.storage) return null
    return {
      id: 1,
      status: 'live',
      physical: c.vector,
      profile: c.adoptedProfile ?? null,
      fingerprint: null,
      model: null,
      dimensions: column.dimensions ?? 0,
      storage: column.storage,
      indexName: null,
      indexSettings: null,
      profileSnapshot: null,
    }
  }

  private async persistAdoption(c: Collection, ref: TableRef): Promise<void> {
    await state.ensureState(this.driver)
    if ((await state.readGenerations(this.driver, ref.collectionKey)).length > 0) return
    const table = await tableFacts(this.driver, ref)
    if (!table) return
    const adopted = this.adoptedRecord(c, (await columnFacts(this.driver, table.oid)).get(c.vector))
    if (!adopted) return
    await this.ddl(async (tx) => {
      await state.insertGeneration(tx, ref.collectionKey, adopted)
      await this.trackGenerations(tx, ref)
    })
  }

  /** Points the change trigger at every generation the collection has now, under their current columns. */
  private async trackGenerations(tx: Queryable, ref: TableRef): Promise<void> {
    const gens = await state.readGenerations(tx, ref.collectionKey)
    await installChangeRecord(
      tx,
      ref,
      gens.map((g) => ({ id: g.id, physical: g.physical })),
    )
  }

  async inspect(c: Collection): Promise<LiveState> {
    const ref = resolveTable(c)
    return this.guard('inspect', ref, async () => {
      const hasState = await state.stateExists(this.driver)
      const journal = hasState ? await state.readJournal(this.driver, ref.collectionKey) : null
      const lock = hasState ? await this.lockHolder(ref) : null
      const table = await tableFacts(this.driver, ref)
      if (!table) {
        const empty = { collection: c.name, exists: false, rows: 0, rowsExact: true, generations: [], live: null, lock, journal }
        return { ...empty, version: hash({ exists: false, generations: [] }) }
      }
      const columns = await columnFacts(this.driver, table.oid)
      const records = await this.records(c, ref)
      const present = records.filter((g) => columns.get(g.physical)?.storage)
      const { rows, rowsExact, populated } = await this.counts(ref, table, present.map((g) => g.physical))
      const indexes = await indexFacts(this.driver, table.oid)
      const generations: GenerationState[] = present.map((g) => {
        const column = columns.get(g.physical)!
        return {
          id: g.id,
          status: g.status,
          physical: g.physical,
          profile: g.profile,
          fingerprint: g.fingerprint,
          model: g.model,
          dimensions: column.dimensions ?? g.dimensions,
          storage: column.storage ?? g.storage,
          populated: populated.get(g.physical) ?? 0,
          index: this.indexState(g, column, indexes),
          indexSettings: g.indexSettings,
          profileSnapshot: g.profileSnapshot,
          createdAt: g.createdAt,
        }
      })
      const live = generations.find((g) => g.status === 'live')?.id ?? null
      const version = hash({
        exists: true,
        live,
        generations: generations.map((g) => ({
          id: g.id,
          status: g.status,
          physical: g.physical,
          fingerprint: g.fingerprint,
          dimensions: g.dimensions,
          storage: g.storage,
          index: g.index,
        })),
      })
      return { collection: c.name, exists: true, rows, rowsExact, generations, live, lock, journal, version }
    })
  }

  private indexState(g: { indexName: string | null; indexSettings: IndexSettings | null }, column: ColumnFacts, indexes: IndexFacts[]) {
    const own = indexes.find((i) => i.name === g.indexName)
    const found = own ?? indexes.find((i) => (i.method === 'hnsw' || i.method === 'ivfflat') && i.attnums.includes(column.attnum))
    if (!found) return null
    const settingsHash = own && g.indexSettings ? pgIndexSettingsHash(g.indexSettings) : hash(found.definition)
    return { name: found.name, method: found.method, valid: found.valid, settingsHash }
  }

  private async counts(ref: TableRef, table: { reltuples: number }, physical: string[]) {
    const populated = new Map<string, number>()
    if (table.reltuples >= EXACT_COUNT_BELOW) {
      // Big table: statistics instead of a full scan on every plan.
      const r = await this.driver.query<{ attname: string; null_frac: number }>(
        `SELECT attname::text AS attname, null_frac::float8 AS null_frac FROM pg_stats
          WHERE schemaname = $1 AND tablename = $2 AND attname = ANY($3::text[])`,
        [ref.schema, ref.table, physical],
      )
      for (const row of r.rows) populated.set(row.attname, Math.round(table.reltuples * (1 - row.null_frac)))
      const unknown = physical.filter((p) => !populated.has(p))
      if (unknown.length > 0) {
        const exact = await this.exactCounts(ref, unknown)
        for (const p of unknown) populated.set(p, exact.columns.get(p) ?? 0)
      }
      return { rows: Math.round(table.reltuples), rowsExact: false, populated }
    }
    const exact = await this.exactCounts(ref, physical)
    return { rows: exact.total, rowsExact: true, populated: exact.columns }
  }

  private async exactCounts(ref: TableRef, physical: string[]) {
    const cols = physical.map((p, i) => `count(${quoteIdent(p)})::float8 AS c${i}`)
    const r = await this.driver.query<Record<string, number>>(`SELECT ${['count(*)::float8 AS total', ...cols].join(', ')} FROM ${ref.qualified}`)
    const row = r.rows[0] ?? {}
    return { total: row.total ?? 0, columns: new Map(physical.map((p, i) => [p, row[`c${i}`] ?? 0])) }
  }

  private async lockHolder(ref: TableRef): Promise<LockInfo | null> {
    const row = await state.readLockRow(this.driver, ref.collectionKey)
    if (!row) return null
    if (!this.driver.native) return this.localLocks.has(ref.collectionKey) ? row : null
    // The row outlives a killed process; the advisory lock does not. Only a held lock counts.
    const r = await this.driver.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid
                 AND objid = hashtext($2)::oid AND objsubid = 2 AND granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held`,
      [ADVISORY_CLASS, ref.collectionKey],
    )
    return r.rows[0]?.held ? row : null
  }

  private lockHeld(ref: TableRef, row: LockInfo | null): EmbedformError {
    const who = row ? `${row.holder} (pid ${row.pid ?? '?'} on ${row.host ?? '?'}, since ${row.since})` : 'another session'
    return failure('E_LOCK_HELD', `${ref.collectionKey} is locked by ${who}`, {
      location: { object: objectName(ref) },
      hint: 'wait for that run to finish; the lock is released automatically when its process exits',
    })
  }

  async lock(c: Collection, holder: string): Promise<Release> {
    const ref = resolveTable(c)
    return this.guard('lock', ref, async () => {
      await this.persistAdoption(c, ref)
      const info: LockInfo = { holder, pid: process.pid, host: hostname(), since: new Date().toISOString() }
      if (!this.driver.native) {
        if (this.localLocks.has(ref.collectionKey)) throw this.lockHeld(ref, await state.readLockRow(this.driver, ref.collectionKey))
        await state.writeLockRow(this.driver, ref.collectionKey, info)
        const release: Release = async () => {
          if (this.localLocks.get(ref.collectionKey) !== release) return
          this.localLocks.delete(ref.collectionKey)
          await state.deleteLockRow(this.driver, ref.collectionKey)
        }
        this.localLocks.set(ref.collectionKey, release)
        return release
      }
      // Session-level advisory lock on a dedicated connection: it dies with the process, so
      // kill -9 never leaves a stale lock behind.
      const session = await this.driver.session()
      try {
        const r = await session.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS ok`, [ADVISORY_CLASS, ref.collectionKey])
        if (!r.rows[0]?.ok) throw this.lockHeld(ref, await state.readLockRow(this.driver, ref.collectionKey))
        await state.writeLockRow(session, ref.collectionKey, info)
      } catch (err) {
        await session.release()
        throw err
      }
      const release: Release = async () => {
        if (!this.heldLocks.delete(release)) return
        try {
          await state.deleteLockRow(session, ref.collectionKey)
          await session.query(`SELECT pg_advisory_unlock($1::int, hashtext($2))`, [ADVISORY_CLASS, ref.collectionKey])
        } finally {
          await session.release()
        }
      }
      this.heldLocks.add(release)
      return release
    })
  }

  async createGeneration(c: Collection, spec: GenerationSpec): Promise<void> {
    const ref = resolveTable(c)
    const column = generationColumn(ref, spec.id)
    if (!Number.isInteger(spec.dimensions) || spec.dimensions < 1 || spec.dimensions > MAX_DIMENSIONS[spec.storage]) {
      throw inputError('E_DIMENSIONS', `${spec.dimensions} dimensions cannot be stored in a ${spec.storage} column (1–${MAX_DIMENSIONS[spec.storage]})`, {
        location: { object: objectName(ref, column) },
      })
    }
    await this.guard(
      'create generation',
      ref,
      async () => {
        await this.requireTable(ref)
        await this.persistAdoption(c, ref)
        const existing = (await state.readGenerations(this.driver, ref.collectionKey)).find((g) => g.id === spec.id)
        if (existing && existing.status !== 'building') return
        if (existing && existing.fingerprint !== spec.fingerprint) {
          throw failure('E_GENERATION_CONFLICT', `generation ${spec.id} already exists with fingerprint ${existing.fingerprint}`, {
            location: { object: objectName(ref, column) },
            hint: 'drop it first or use the next generation id',
          })
        }
        await this.ddl(async (tx) => {
          await tx.query(`ALTER TABLE ${ref.qualified} ADD COLUMN IF NOT EXISTS ${quoteIdent(column)} ${spec.storage}(${spec.dimensions})`)
          await state.insertGeneration(tx, ref.collectionKey, state.specRecord(spec, column, indexName(ref, spec.id)))
          await this.trackGenerations(tx, ref)
          await compactUpdatedRows(tx, ref)
        }, ref)
      },
      column,
    )
  }

  /**
   * One DDL transaction with a short lock_timeout, retried with backoff on 55P03. Each time it
   * has to wait, the sessions holding a lock on the table are named (pid, how long, query), so a
   * wait on an application transaction does not look like a hang.
   */
  private ddl<T>(fn: (tx: Queryable) => Promise<T>, ref?: TableRef): Promise<T> {
    return retryOnLockTimeout(
      () =>
        this.driver.transaction(async (tx) => {
          await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [this.options.lockTimeout])
          return fn(tx)
        }),
      8,
      100,
      ref && this.options.log ? (attempt) => this.reportLockHolders(ref, attempt) : undefined,
    )
  }

  private async reportLockHolders(ref: TableRef, attempt: number): Promise<void> {
    const r = await this.driver
      .query<{ pid: number; state: string; seconds: number; query: string }>(
        `SELECT a.pid, a.state, extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::float8 AS seconds, left(a.query, 200) AS query
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.relation = $1::regclass AND l.granted AND a.pid <> pg_backend_pid()
          ORDER BY seconds DESC LIMIT 3`,
        [ref.qualified],
      )
      .catch(() => ({ rows: [] }))
    const who = r.rows.map((h) => `pid ${h.pid} (${h.state}, ${Math.round(h.seconds)} s: ${h.query.replace(/\s+/g, ' ')})`).join('; ')
    this.options.log?.(`waiting for a lock on ${ref.schema}.${ref.table} (attempt ${attempt})${who ? `: held by ${who}` : ''}`)
  }

  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    const ref = resolveTable(c)
    const g = await this.guard('pending', ref, () => this.requireGeneration(c, ref, generation))
    if (opts.phase === 'catchup') {
      yield* this.queued(ref, g, opts.batchSize, opts.slices)
      return
    }
    const text = textExpression(ref, 't', 1)
    const range = leases.rangeFilter(ref, opts.range ? await this.keyType(ref) : '', opts.range, text.params.length + 1)
    // Rows the application inserts or edits while the pass runs are queued, and catch-up embeds
    // them; leaving them out here is what lets a pass end however fast the application inserts.
    const startSeq = await this.guard('pending (backfill)', ref, () => queueHighWater(this.driver))
    const seqParam = text.params.length + range.params.length + 1
    const keyParam = seqParam + 1
    const limitParam = keyParam + 1
    // Under zero_vectors: skip, a NULL whose recorded hash is its current text's is a skipped row,
    // done. The hash is read beside each row, not filtered in SQL: as a condition the planner
    // trades the key-order index scan for a scan of the whole hash table on every page.
    const skip = zeroVectorPolicy(g.profileSnapshot) === 'skip'
    const recorded = skip ? `, (SELECT h.h FROM ${changeRecord(ref).hashes} h WHERE h.g = ${Math.trunc(g.id)} AND h.k = t.${quoteIdent(ref.key)}::text) AS recorded` : ''
    const select = `SELECT t.${quoteIdent(ref.key)} AS k, ${text.sql} AS text, ${tokenSql('t', text.sql)} AS token${recorded} FROM ${ref.qualified} t`
    const order = `ORDER BY t.${quoteIdent(ref.key)} LIMIT $${limitParam}`
    const queuedSince = `NOT EXISTS (SELECT 1 FROM ${changeRecord(ref).queue} q WHERE q.g = ${Math.trunc(g.id)} AND q.k = t.${quoteIdent(ref.key)}::text AND q.seq > $${seqParam}::bigint)`
    const nullCol = `t.${quoteIdent(g.physical)} IS NULL${range.sql} AND ${queuedSince}`
    let last: RowKey | null = null
    for (;;) {
      const r: { rows: { k: RowKey; text: string; token: string; recorded?: string | null }[] } = await this.guard(`pending (${opts.phase})`, ref, () =>
        inKeyOrder(
          this.driver,
          last === null
            ? { sql: `${select} WHERE ${nullCol} ORDER BY t.${quoteIdent(ref.key)} LIMIT $${keyParam}`, params: [...text.params, ...range.params, startSeq, opts.batchSize] }
            : { sql: `${select} WHERE ${nullCol} AND t.${quoteIdent(ref.key)} > $${keyParam} ${order}`, params: [...text.params, ...range.params, startSeq, last, opts.batchSize] },
        ),
      )
      if (r.rows.length === 0) return
      last = r.rows[r.rows.length - 1]!.k
      const rows = r.rows.filter((row) => !skip || row.recorded !== tokenHash(row.token)).map((row) => ({ key: row.k, text: row.text, token: row.token }))
      if (rows.length > 0) yield rows
    }
  }

  /**
   * The generation's change queue, oldest first. Entries with nothing to embed (row deleted, or
   * already fresh) are taken off here; the rest leave the queue when their vector is written.
   */
  private async *queued(ref: TableRef, g: state.GenerationRecord, batchSize: number, slices?: QueueSlices): AsyncIterable<PendingRow[]> {
    const keyType = await this.keyType(ref)
    const rec = changeRecord(ref)
    // A pass reads what is queued when it starts: edits queued later get a higher seq.
    const sliced = sliceFilter(slices, 2)
    const end = await this.driver.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM ${rec.queue} WHERE g = $1${sliced.sql}`, [g.id, ...sliced.params])
    const upTo = end.rows[0]?.seq
    if (!upTo) return
    let after = '0'
    for (;;) {
      const page = (await this.guard('pending (catchup)', ref, () => queuePage(this.driver, ref, g.id, g.physical, keyType, after, batchSize, slices))).filter(
        (r) => BigInt(r.seq) <= BigInt(upTo),
      )
      if (page.length === 0) return
      after = page[page.length - 1]!.seq
      await this.guard('pending (catchup)', ref, () =>
        consumeQueue(
          this.driver,
          ref,
          g.id,
          page.filter((r) => r.k === null || r.fresh),
        ),
      )
      const rows = toPending(page)
      if (rows.length > 0) yield rows
    }
  }

  /** Whether the collection has a freshness record yet (an adopted table never locked has none). */
  private async tracked(ref: TableRef): Promise<boolean> {
    return (await state.stateExists(this.driver)) && (await changeRecordExists(this.driver, ref))
  }

  private async keyType(ref: TableRef): Promise<string> {
    return (await this.keyedColumns(ref)).keyType
  }

  /** The table's columns and its key column's SQL type (E_COLUMN_MISSING without one). */
  private keyedColumns(ref: TableRef): Promise<{ table: TableFacts; columns: Map<string, ColumnFacts>; keyType: string }> {
    return this.keyedColumnsAndIndexes(ref, false)
  }

  /** keyedColumns, and the table's indexes read beside the columns when `withIndexes`. */
  private async keyedColumnsAndIndexes(
    ref: TableRef,
    withIndexes: boolean,
  ): Promise<{ table: TableFacts; columns: Map<string, ColumnFacts>; keyType: string; indexes: IndexFacts[] }> {
    const table = await this.requireTable(ref)
    const [columns, indexes] = await Promise.all([columnFacts(this.driver, table.oid), withIndexes ? indexFacts(this.driver, table.oid) : []])
    const keyType = columns.get(ref.key)?.type
    if (!keyType) throw failure('E_COLUMN_MISSING', `key column ${ref.key} does not exist`, { location: { object: objectName(ref, ref.key) } })
    return { table, columns, keyType, indexes }
  }

  private async writeTarget(c: Collection, ref: TableRef, generation: number, opts: WriteOptions): Promise<WriteTarget & { dimensions: number }> {
    // Independent catalog reads, side by side: a batch waits for the longest chain (two round
    // trips) instead of all five. Settled both, so a missing generation is reported before a
    // missing table, as one at a time would.
    const [gen, keyed] = await Promise.allSettled([this.requireGeneration(c, ref, generation), this.keyedColumnsAndIndexes(ref, true)])
    if (gen.status === 'rejected') throw gen.reason
    if (keyed.status === 'rejected') throw keyed.reason
    const g = gen.value
    const { columns, keyType, indexes } = keyed.value
    if (g.status === 'live' && !opts.live) {
      throw failure('E_WRITE_LIVE', `generation ${generation} is live; embedform writes the column the application reads only when syncing it`, {
        location: { object: objectName(ref, g.physical) },
        hint: 'keep the live generation fresh with `embedform sync`',
      })
    }
    const attnum = columns.get(g.physical)?.attnum
    const indexed = attnum !== undefined && indexes.some((i) => i.attnums.includes(attnum))
    return { ref, generation, physical: g.physical, storage: g.storage, keyType, dimensions: g.dimensions, indexed }
  }

  async write(c: Collection, generation: number, rows: VectorRow[], opts: WriteOptions = {}): Promise<void> {
    if (rows.length === 0) return
    const ref = resolveTable(c)
    await this.guard('write', ref, async () => {
      const target = await this.writeTarget(c, ref, generation, opts)
      this.checkDimensions(ref, target, rows)
      await this.driver.connection((conn) => writeInRounds(conn, target, rows))
    })
  }

  private checkDimensions(ref: TableRef, target: WriteTarget & { dimensions: number }, rows: VectorRow[]): void {
    const bad = rows.find((r) => r.vector !== null && r.vector.length !== target.dimensions)
    if (bad?.vector) {
      throw failure('E_DIMENSIONS', `vector for key ${bad.key} has ${bad.vector.length} dimensions, generation ${target.generation} holds ${target.dimensions}`, {
        location: { object: objectName(ref, target.physical) },
      })
    }
  }

  async freshness(c: Collection, generation: number): Promise<Freshness> {
    const ref = resolveTable(c)
    return this.guard('freshness', ref, async () => {
      const g = await this.requireGeneration(c, ref, generation)
      const table = await this.requireTable(ref)
      const tracked = await this.tracked(ref)
      if (table.reltuples >= EXACT_COUNT_BELOW && tracked) {
        const { rows, populated } = await this.counts(ref, table, [g.physical])
        const skip = zeroVectorPolicy(g.profileSnapshot) === 'skip'
        return estimatedFreshness(this.driver, ref, g.id, g.physical, await this.keyType(ref), { rows, populated: populated.get(g.physical) ?? 0 }, skip)
      }
      if (!tracked) {
        // Adopted and never locked: no record yet, so every vector is unverified.
        const exact = await this.exactCounts(ref, [g.physical])
        const populated = exact.columns.get(g.physical) ?? 0
        return { generation, rows: exact.total, fresh: 0, stale: 0, missing: exact.total - populated, skipped: 0, unverified: populated, queued: 0, exact: true }
      }
      const n = await exactCounts(this.driver, ref, g.id, g.physical, g.storage, g.dimensions)
      return {
        generation,
        rows: n.rows,
        fresh: n.fresh,
        stale: n.stale,
        missing: n.rows - n.populated - n.skipped,
        skipped: n.skipped,
        unverified: n.unverified,
        queued: n.queued,
        exact: true,
        oldestQueuedAt: n.oldest,
        zeroVectors: n.zero,
      }
    })
  }

  private indexSql(ref: TableRef, g: state.GenerationRecord, rows: number, concurrently: boolean): string | null {
    const s = g.indexSettings
    if (!s || s.pgvector.type === 'none') return null
    const opclass = `${g.storage}_${DISTANCE[s.metric].opclass}`
    const p = s.pgvector
    const lists = p.lists ?? Math.max(1, Math.floor(rows <= 1_000_000 ? rows / 1000 : Math.sqrt(rows)))
    const withClause = p.type === 'hnsw' ? `m = ${Math.trunc(p.m)}, ef_construction = ${Math.trunc(p.efConstruction)}` : `lists = ${Math.trunc(lists)}`
    return `CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS ${quoteIdent(g.indexName ?? indexName(ref, g.id))}
      ON ${ref.qualified} USING ${p.type} (${quoteIdent(g.physical)} ${opclass}) WITH (${withClause})`
  }

  async buildIndex(
    c: Collection,
    generation: number,
    onProgress?: (done: number, total: number) => void,
    settings?: IndexSettings,
  ): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('build index', ref, async () => {
      if (settings) await this.persistAdoption(c, ref)
      const recorded = await this.requireGeneration(c, ref, generation)
      const changed = settings !== undefined && stableJson(settings) !== stableJson(recorded.indexSettings)
      const g = changed ? { ...recorded, indexSettings: settings, indexName: recorded.indexName ?? indexName(ref, recorded.id) } : recorded
      const table = await this.requireTable(ref)
      const name = g.indexName ?? indexName(ref, g.id)
      if (this.driver.native) await this.cancelOrphanBuilds(name)
      const existing = (await indexFacts(this.driver, table.oid)).find((i) => i.name === name)
      if (existing?.valid && !changed) return
      const rows = (await this.exactCounts(ref, [g.physical])).columns.get(g.physical) ?? 0
      const sql = this.indexSql(ref, g, rows, this.driver.native)
      const session = await this.driver.session()
      try {
        // An INVALID index is what a crashed CONCURRENTLY build leaves behind; an index with
        // old settings is what an index-only rebuild replaces. Either way: drop, then build.
        if (existing) await session.query(`DROP INDEX ${this.driver.native ? 'CONCURRENTLY ' : ''}IF EXISTS ${quoteIdent(ref.schema)}.${quoteIdent(name)}`)
        if (sql) {
          await session.query(`SELECT set_config('maintenance_work_mem', $1, false)`, [this.options.maintenanceWorkMem])
          const progress = this.driver.native && onProgress ? this.pollIndexProgress(table.oid, onProgress) : null
          try {
            await session.query(sql)
          } finally {
            progress?.stop()
          }
          onProgress?.(rows, rows)
        }
      } finally {
        await session.release()
      }
      // Recorded only once the index matches them, so inspect never reports settings not yet built.
      if (changed) await state.setIndexSettings(this.driver, ref.collectionKey, g.id, settings, name)
    })
  }

  /**
   * A killed apply does not stop its CREATE INDEX CONCURRENTLY on the server; the run that resumes
   * (holding the migration lock, so no live build of ours can be among them) cancels such builds
   * of this index and waits for them to end before dropping the INVALID index they leave.
   */
  private async cancelOrphanBuilds(name: string): Promise<void> {
    const orphans = `SELECT pid FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND datname = current_database()
         AND query ILIKE 'CREATE INDEX CONCURRENTLY%' AND strpos(query, $1) > 0`
    const found = await this.driver.query<{ pid: number }>(orphans, [quoteIdent(name)])
    if (found.rows.length === 0) return
    await this.driver.query(`SELECT pg_terminate_backend(pid) FROM (${orphans}) o`, [quoteIdent(name)])
    for (let i = 0; i < 100; i++) {
      if ((await this.driver.query(orphans, [quoteIdent(name)])).rows.length === 0) return
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  private pollIndexProgress(oid: number, onProgress: (done: number, total: number) => void): { stop(): void } {
    const timer = setInterval(() => {
      this.driver
        .query<{ done: number; total: number }>(
          `SELECT CASE WHEN tuples_total > 0 THEN tuples_done ELSE blocks_done END::float8 AS done,
                  CASE WHEN tuples_total > 0 THEN tuples_total ELSE blocks_total END::float8 AS total
             FROM pg_stat_progress_create_index WHERE relid = $1::int8::oid`,
          [oid],
        )
        .then((r) => {
          const row = r.rows[0]
          if (row && row.total > 0) onProgress(row.done, row.total)
        })
        .catch(() => undefined)
    }, 500)
    return { stop: () => clearInterval(timer) }
  }

  async dropIndex(c: Collection, generation: number): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('drop index', ref, async () => {
      const g = await this.requireGeneration(c, ref, generation)
      const name = g.indexName ?? indexName(ref, g.id)
      await this.driver.query(`DROP INDEX ${this.driver.native ? 'CONCURRENTLY ' : ''}IF EXISTS ${quoteIdent(ref.schema)}.${quoteIdent(name)}`)
    })
  }

  async verify(c: Collection, generation: number): Promise<VerifyReport> {
    const ref = resolveTable(c)
    return this.guard('verify', ref, async () => {
      const g = await this.requireGeneration(c, ref, generation)
      const table = await this.requireTable(ref)
      const tracked = await this.tracked(ref)
      const n = tracked
        ? await exactCounts(this.driver, ref, g.id, g.physical, g.storage, g.dimensions)
        : { ...(await this.untrackedCounts(ref, g)), fresh: 0, stale: 0, unverified: 0, skipped: 0, queued: 0 }
      const wantsIndex = g.indexSettings !== null && g.indexSettings.pgvector.type !== 'none'
      const index = (await indexFacts(this.driver, table.oid)).find((i) => i.name === (g.indexName ?? indexName(ref, g.id)))
      const indexValid = wantsIndex ? (index?.valid ?? false) : null
      const sample = await this.selfFind(ref, g, indexValid === true)
      const missing = n.rows - n.populated - n.skipped
      const problems: string[] = []
      if (n.untracked > 0) problems.push(`${n.untracked} of ${n.rows} rows in ${g.physical} are missing or stale and not queued for catch-up`)
      if (n.wrong > 0) problems.push(`${n.wrong} vectors in ${g.physical} do not have ${g.dimensions} dimensions`)
      if (indexValid === false) problems.push(index ? `index ${index.name} is INVALID` : `index ${g.indexName} is missing`)
      if (sample.selfFound < sample.checked) {
        problems.push(`${sample.checked - sample.selfFound} of ${sample.checked} sampled rows did not find themselves by exact search in their top ${SAMPLE_K}`)
      }
      return {
        generation,
        total: n.rows,
        populated: n.populated,
        missing,
        skipped: n.skipped,
        stale: n.stale,
        untracked: n.untracked,
        zeroVectors: n.zero,
        wrongDimensions: n.wrong,
        indexValid,
        sample: { checked: sample.checked, selfFound: sample.selfFound },
        indexRecall: sample.indexRecall,
        ok: problems.length === 0,
        problems,
      }
    })
  }

  /** A table with no change record yet (adopted, never locked): every missing row is untracked. */
  private async untrackedCounts(ref: TableRef, g: state.GenerationRecord) {
    const col = quoteIdent(g.physical)
    const norm = g.storage === 'halfvec' ? 'l2_norm' : 'vector_norm'
    const r = await this.driver.query<{ rows: number; populated: number; wrong: number; zero: number }>(
      `SELECT count(*)::float8 AS rows, count(${col})::float8 AS populated,
              count(*) FILTER (WHERE vector_dims(${col}) <> $1)::float8 AS wrong,
              count(*) FILTER (WHERE ${norm}(${col}) = 0)::float8 AS zero
         FROM ${ref.qualified}`,
      [g.dimensions],
    )
    const { rows = 0, populated = 0, wrong = 0, zero = 0 } = r.rows[0] ?? {}
    return { rows, populated, wrong, zero, untracked: rows - populated }
  }

  /**
   * Exact self-find (index scans off, so the approximate graph cannot fail it) on a random sample,
   * and the index's recall@SAMPLE_K against that exact answer. Real corpora hold duplicate texts:
   * an identical vector counts as the row finding itself, and ties at the k-th distance count as
   * found. Zero vectors have no cosine direction and are counted by verify separately.
   */
  private async selfFind(ref: TableRef, g: state.GenerationRecord, indexed: boolean): Promise<{ checked: number; selfFound: number; indexRecall: number | null }> {
    const col = quoteIdent(g.physical)
    const norm = g.storage === 'halfvec' ? 'l2_norm' : 'vector_norm'
    const sample = await this.driver.query<{ k: RowKey; v: string }>(
      `SELECT ${quoteIdent(ref.key)} AS k, ${col}::text AS v FROM ${ref.qualified}
        WHERE ${col} IS NOT NULL AND ${norm}(${col}) > 0 ORDER BY random() LIMIT ${SAMPLE_ROWS}`,
    )
    const { op } = DISTANCE[g.indexSettings?.metric ?? 'cosine']
    const keyCol = quoteIdent(ref.key)
    let selfFound = 0
    let recalled = 0
    let compared = 0
    for (const row of sample.rows) {
      const nearest = async (exact: boolean) =>
        this.driver.transaction(async (tx) => {
          if (exact) {
            await tx.query(`SET LOCAL enable_indexscan = off`)
            await tx.query(`SET LOCAL enable_bitmapscan = off`)
          } else {
            await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.max(40, SAMPLE_K))])
          }
          const r = await tx.query<{ k: string; same: boolean; d: number }>(
            `SELECT ${keyCol}::text AS k, (${col} = $1::${g.storage}) AS same, (${col} ${op} $1::${g.storage})::float8 AS d
               FROM ${ref.qualified} WHERE ${col} IS NOT NULL ORDER BY ${col} ${op} $1::${g.storage} LIMIT ${SAMPLE_K}`,
            [row.v],
          )
          return r.rows
        })
      const exact = await nearest(true)
      const kth = exact[exact.length - 1]?.d ?? 0
      if (exact.some((n) => n.k === String(row.k) || n.same)) selfFound++
      else if (exact.length > 0 && (await this.tiesAt(g, row.v, kth))) selfFound++
      if (indexed) {
        const approx = new Set((await nearest(false)).map((n) => n.k))
        recalled += exact.filter((n) => approx.has(n.k)).length
        compared += exact.length
      }
    }
    return { checked: sample.rows.length, selfFound, indexRecall: indexed && compared > 0 ? recalled / compared : null }
  }

  /** Whether the k-th exact neighbour is as close as the row's own vector: a tie that the LIMIT cut. */
  private async tiesAt(g: state.GenerationRecord, vector: string, kth: number): Promise<boolean> {
    const { op } = DISTANCE[g.indexSettings?.metric ?? 'cosine']
    const r = await this.driver.query<{ d: number }>(`SELECT ($1::${g.storage} ${op} $1::${g.storage})::float8 AS d`, [vector])
    const self = r.rows[0]?.d
    return self !== undefined && kth <= self + 1e-6
  }

  async cutover(c: Collection, generation: number, opts: CutoverOptions): Promise<CutoverResult> {
    const ref = resolveTable(c)
    return this.guard('cutover', ref, async () => {
      await this.persistAdoption(c, ref)
      await this.requireGeneration(c, ref, generation)
      const table = await this.requireTable(ref)
      const keyType = await this.keyType(ref)
      let heldAt = 0
      let swapAt = 0
      const swap = this.ddl(async (tx): Promise<CutoverResult> => {
        // The hold: EXCLUSIVE waits for every open writing transaction to end and keeps new
        // writes out, while readers (ACCESS SHARE) go on. From here the queue is complete.
        await tx.query(`LOCK TABLE ${ref.qualified} IN EXCLUSIVE MODE`)
        heldAt = performance.now()
        const gens = await state.readGenerations(tx, ref.collectionKey)
        const target = gens.find((g) => g.id === generation)
        if (!target) throw failure('E_GENERATION_MISSING', `generation ${generation} of ${ref.collectionKey} is not registered`, { location: { object: objectName(ref) } })
        if (target.status === 'live') return { status: 'done', heldMs: 0, swapMs: 0, embeddedWhileHeld: 0, leftStale: 0 }
        const write: WriteTarget = { ref, generation, physical: target.physical, storage: target.storage, keyType }
        const drained = await this.drainHeld(tx, write, opts)
        // Thrown to roll the transaction back, which releases the hold; caught below.
        if (drained.behind !== null) throw new HeldBehind(drained.behind)
        const live = gens.find((g) => g.status === 'live')
        const columns = await columnFacts(tx, table.oid)
        const liveColumn = columns.get(ref.vector)
        if (!columns.get(target.physical)) {
          throw failure('E_COLUMN_MISSING', `column ${target.physical} of generation ${generation} does not exist`, {
            location: { object: objectName(ref, target.physical) },
          })
        }
        if (liveColumn && !live) {
          throw failure('E_UNMANAGED_COLUMN', `column ${ref.vector} exists but no live generation is recorded for it`, {
            location: { object: objectName(ref, ref.vector) },
          })
        }
        // Readers of a view lock the view before the table: take the locks in that same order
        // (outermost view first, table last), or a reader and the swap deadlock.
        const views = liveColumn ? await dependentViews(tx, table.oid, [liveColumn.attnum]) : []
        const lockOrder = [...views].reverse().map((v) => `${quoteIdent(v.schema)}.${quoteIdent(v.name)}`)
        await tx.query(`LOCK TABLE ${[...lockOrder, ref.qualified].join(', ')} IN ACCESS EXCLUSIVE MODE`)
        swapAt = performance.now()
        for (const v of [...views].reverse()) await tx.query(`DROP VIEW ${quoteIdent(v.schema)}.${quoteIdent(v.name)}`)
        if (live && liveColumn) {
          const retired = generationColumn(ref, live.id)
          await tx.query(`ALTER TABLE ${ref.qualified} RENAME COLUMN ${quoteIdent(ref.vector)} TO ${quoteIdent(retired)}`)
          await state.setGeneration(tx, ref.collectionKey, live.id, 'retained', retired)
        }
        await tx.query(`ALTER TABLE ${ref.qualified} RENAME COLUMN ${quoteIdent(target.physical)} TO ${quoteIdent(ref.vector)}`)
        await state.setGeneration(tx, ref.collectionKey, generation, 'live', ref.vector)
        // The change trigger names each generation's column: point it at the new names.
        await this.trackGenerations(tx, ref)
        await restoreRowLayout(tx, ref)
        // Views bind to the physical column: recreate them from their text so they read the new one.
        for (const v of views) await recreateView(tx, v)
        return { status: 'done', heldMs: 0, swapMs: 0, embeddedWhileHeld: drained.embedded, leftStale: drained.left }
      }, ref)
      const result = await swap.catch((err: unknown) => {
        if (err instanceof HeldBehind) return { status: 'behind' as const, pending: err.pending, heldMs: performance.now() - heldAt }
        throw err
      })
      if (result.status !== 'done' || swapAt === 0) return result
      const end = performance.now()
      return { ...result, heldMs: end - heldAt, swapMs: end - swapAt }
    })
  }

  /**
   * Under the hold: embeds the target's queued rows through opts.embed, at most maxHeldRows.
   * `behind` is the number of rows pending when there are more than that (or no embed at all).
   */
  private async drainHeld(tx: Queryable, t: WriteTarget, opts: CutoverOptions): Promise<{ behind: number | null; embedded: number; left: number }> {
    const pending = await this.heldPending(tx, t, opts.maxHeldRows + 1)
    const canEmbed = opts.embed !== undefined && pending.length <= opts.maxHeldRows
    if (!canEmbed && pending.length > 0 && !opts.acceptStale) {
      const n = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${changeRecord(t.ref).queue} WHERE g = $1`, [t.generation])
      return { behind: Math.max(pending.length, n.rows[0]?.n ?? 0), embedded: 0, left: 0 }
    }
    let embedded = 0
    if (canEmbed && pending.length > 0 && opts.embed) embedded = (await writeVectors(tx, t, await opts.embed(pending))).length
    const left = (await this.heldPending(tx, t, Number.MAX_SAFE_INTEGER)).length
    if (left > 0 && !opts.acceptStale) return { behind: left, embedded: 0, left: 0 }
    return { behind: null, embedded, left }
  }

  /** Rows of the target's queue that still need a vector, up to `limit`; entries with nothing to do are consumed. */
  private async heldPending(tx: Queryable, t: WriteTarget, limit: number): Promise<PendingRow[]> {
    const out: PendingRow[] = []
    let after = '0'
    while (out.length < limit) {
      const page = await queuePage(tx, t.ref, t.generation, t.physical, t.keyType, after, 1000)
      if (page.length === 0) break
      after = page[page.length - 1]!.seq
      await consumeQueue(
        tx,
        t.ref,
        t.generation,
        page.filter((r) => r.k === null || r.fresh),
      )
      out.push(...toPending(page))
    }
    return out.slice(0, limit)
  }

  async dropGeneration(c: Collection, generation: number): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('drop generation', ref, async () => {
      if (!(await state.stateExists(this.driver))) return
      const g = (await state.readGenerations(this.driver, ref.collectionKey)).find((x) => x.id === generation)
      if (!g) return
      if (g.status === 'live') {
        throw failure('E_GENERATION_LIVE', `generation ${generation} is live; cut over to another generation before dropping it`, {
          location: { object: objectName(ref, g.physical) },
        })
      }
      const name = g.indexName ?? indexName(ref, g.id)
      await this.driver.query(`DROP INDEX ${this.driver.native ? 'CONCURRENTLY ' : ''}IF EXISTS ${quoteIdent(ref.schema)}.${quoteIdent(name)}`)
      await this.ddl(async (tx) => {
        await state.deleteGeneration(tx, ref.collectionKey, generation)
        // The trigger watches every generation's column: let go of this one before dropping it.
        await this.trackGenerations(tx, ref)
        await forgetGeneration(tx, ref, generation)
        await leases.forgetLeases(tx, ref.collectionKey, generation)
        await failedRecord.forgetFailures(tx, ref.collectionKey, generation)
        await tx.query(`ALTER TABLE ${ref.qualified} DROP COLUMN IF EXISTS ${quoteIdent(g.physical)}`)
        if (g.status === 'building') await restoreRowLayout(tx, ref)
      })
    })
  }

  private async nearest(ref: TableRef, g: state.GenerationRecord, vector: string, k: number): Promise<Hit[]> {
    const metric = g.indexSettings?.metric ?? 'cosine'
    const { op, score } = DISTANCE[metric]
    const text = textExpression(ref, 't', 3)
    const col = `t.${quoteIdent(g.physical)}`
    // hnsw.ef_search (default 40) caps how many rows an HNSW scan can return, so a reranker
    // asking for 200 candidates would silently get 40; raise it to k for this query only.
    const r = await this.driver.transaction(async (tx) => {
      await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.min(1000, Math.max(40, k)))])
      return tx.query<{ k: RowKey; text: string; d: number | null }>(
        `SELECT t.${quoteIdent(ref.key)} AS k, ${text.sql} AS text, (${col} ${op} $1::${g.storage})::float8 AS d
           FROM ${ref.qualified} t ORDER BY ${col} ${op} $1::${g.storage} LIMIT $2`,
        [vector, k, ...text.params],
      )
    })
    // NULL distances (rows without a vector) sort last; they are not hits.
    return r.rows.filter((row) => row.d !== null).map((row) => ({ key: row.k, score: score(row.d!), text: row.text }))
  }

  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const ref = resolveTable(c)
    return this.guard('search', ref, async () => {
      const g = await this.requireGeneration(c, ref, generation)
      return this.nearest(ref, g, vectorLiteral(q.vector), q.k)
    })
  }

  async measurePipeline(c: Collection, probe: PipelineProbe): Promise<PipelineMeasurement> {
    const ref = resolveTable(c)
    return this.guard('measure pipeline', ref, async () => {
      const keyType = await this.keyType(ref)
      // One connection for the probe's temp tables, taken in turn with writes (on PGlite they share the backend's temp tables).
      return this.driver.connection((conn) => probePipeline(conn, ref, keyType, probe))
    })
  }

  async planRanges(c: Collection, generation: number, rangeRows: number): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('plan worker ranges', ref, async () => {
      const g = await this.requireGeneration(c, ref, generation)
      await leases.ensureLeases(this.driver)
      await this.driver.transaction((tx) => leases.planRanges(tx, ref, ref.collectionKey, g.id, g.physical, rangeRows))
    })
  }

  async rangesPlanned(c: Collection, generation: number): Promise<boolean> {
    const ref = resolveTable(c)
    return this.guard('read worker ranges', ref, () => leases.leasesPlanned(this.driver, ref.collectionKey, generation))
  }

  async leaseRange(c: Collection, generation: number, opts: LeaseOptions): Promise<LeaseClaim> {
    const ref = resolveTable(c)
    return this.guard('lease a key range', ref, () => leases.claimRange(this.driver, ref.collectionKey, generation, opts.holder, opts.ttlMs))
  }

  async renewLease(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    const ref = resolveTable(c)
    return this.guard('renew a lease', ref, () => leases.renewRange(this.driver, ref.collectionKey, generation, range.id, opts.holder, opts.ttlMs))
  }

  async completeLease(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    const ref = resolveTable(c)
    return this.guard('complete a lease', ref, () => leases.completeRange(this.driver, ref.collectionKey, generation, range.id, opts.holder))
  }

  async claimSlices(c: Collection, generation: number, slices: { from: number; limit: number; max: number }, opts: LeaseOptions): Promise<number[]> {
    const ref = resolveTable(c)
    return this.guard('lease queue slices', ref, async () => {
      if (!this.leasesReady) await leases.ensureLeases(this.driver)
      this.leasesReady = true
      return leases.claimSlices(this.driver, ref.collectionKey, generation, slices.from, slices.limit, slices.max, opts.holder, opts.ttlMs)
    })
  }

  async renewSlices(c: Collection, generation: number, ids: number[], opts: LeaseOptions): Promise<number[]> {
    const ref = resolveTable(c)
    return this.guard('renew queue slices', ref, () => leases.renewSlices(this.driver, ref.collectionKey, generation, ids, opts.holder, opts.ttlMs))
  }

  async releaseSlices(c: Collection, generation: number, ids: number[], opts: LeaseOptions): Promise<number[]> {
    const ref = resolveTable(c)
    return this.guard('release queue slices', ref, () => leases.releaseSlices(this.driver, ref.collectionKey, generation, ids, opts.holder))
  }

  async recordFailures(c: Collection, failed: FailedItem[], cleared: { generation: number; key: RowKey }[]): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('record failed items', ref, () => failedRecord.recordFailures(this.driver, ref.collectionKey, failed, cleared))
  }

  async failedItems(c: Collection): Promise<FailedItem[]> {
    const ref = resolveTable(c)
    return this.guard('read failed items', ref, async () => ((await tableFacts(this.driver, ref)) ? failedRecord.failedItems(this.driver, ref, await this.keyType(ref)) : []))
  }

  async watchChanges(c: Collection, listener: ChangeListener): Promise<ChangeSubscription | null> {
    const ref = resolveTable(c)
    const listen = this.driver.listen?.bind(this.driver)
    // PGlite has no LISTEN across processes: the watcher polls the queue instead.
    if (!listen) return null
    return this.guard('listen for changes', ref, () =>
      listen(
        changeRecord(ref).channel,
        (payload) => listener.onChange(payload.split(',').filter(Boolean).map(Number)),
        (err) => listener.onLost(storeError('listen for changes', objectName(ref), err)),
      ),
    )
  }

  async sample(c: Collection, n: number, generation?: number): Promise<SampledRow[]> {
    const ref = resolveTable(c)
    return this.guard('sample', ref, async () => sampleRows(this.driver, ref, n, generation === undefined ? undefined : await this.requireGeneration(c, ref, generation)))
  }

  async replicaLagMs(c: Collection): Promise<number | null> {
    return this.guard('replica lag', resolveTable(c), () => replicaLagMs(this.driver))
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    const ref = resolveTable(c)
    return this.guard('read journal', ref, async () =>
      (await state.stateExists(this.driver)) ? state.readJournal(this.driver, ref.collectionKey) : null,
    )
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    const ref = resolveTable(c)
    await this.guard('write journal', ref, async () => {
      await state.ensureState(this.driver)
      await state.writeJournal(this.driver, ref.collectionKey, j)
    })
  }

  preflight(c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]> {
    return preflight(this.driver, c, desired)
  }

  async close(): Promise<void> {
    // A lock whose connection already died cannot be released cleanly; the driver still closes.
    await Promise.allSettled([...this.localLocks.values(), ...this.heldLocks].map((release) => release()))
    if (this.options.ownsDriver) await this.driver.close()
  }
}
