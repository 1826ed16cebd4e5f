import { createHash } from 'node:crypto'
import { EmbedformErrors, failure, inputError, type EmbedformError } from '../../src/core/errors.js'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection } from '../../src/core/types.js'
import type {
  AdapterCapabilities,
  CutoverOptions,
  CutoverResult,
  Freshness,
  GenerationSpec,
  GenerationState,
  Hit,
  Journal,
  KeyRange,
  LeaseClaim,
  LeaseOptions,
  LiveState,
  PendingOptions,
  PendingRow,
  Release,
  SampledRow,
  SearchQuery,
  StoreAdapter,
  VectorRow,
  VerifyReport,
  WriteOptions,
} from '../../src/store/adapter.js'
import type { PreflightDesired, PreflightProblem } from '../../src/store/adapter.js'
import { bulkWrite, type BulkItem, type BulkOptions } from './bulk.js'
import { carriedFrom, describeCarried, RESTORED_AFTER_LOAD, type Carried } from './carry.js'
import { isZeroVector } from '../../src/core/zero-vectors.js'
import { copyOutdated, externalVersion, readCopies, RECORD_FIELD, RECORD_MAPPING, rowState, sharedSource, sourceDoc, type Copy, type SourceDoc, type VectorRecord } from './copies.js'
import { enc, type Json, type OsHttp } from './http.js'
import { knnAdvice, knnViolations, NEWEST_KNOWN, parseVersion, versionText, type ClusterVersion } from './knn-rules.js'
import { describeKnn, generationMapping, knnFieldMapping, knnInput, osIndexSettingsHash, similarityFromScore, type SpaceType } from './mapping.js'
import { checkSortableKey, fieldMapping, scanIndex } from './paging.js'
import { preflight } from './preflight.js'
import { sampleDocs } from './sample.js'
import { DEFAULT_MAX_SLICES_PER_PIT, SliceLeases, sliceCount } from './slices.js'
import * as state from './state.js'
import { documentText, textFields } from './text.js'

export interface OpenSearchAdapterOptions {
  bulk: BulkOptions
  /**
   * Catch-up reads documents with updated-at ≥ checkpoint − this. The checkpoint is a value of
   * the application's own clock, so only skew between the application's hosts needs a margin.
   */
  catchupMarginMs: number
}

const DEFAULT_OPTIONS: OpenSearchAdapterOptions = { bulk: { attempts: 8, backoffMs: 250 }, catchupMarginMs: 0 }
const SAMPLE_DOCS = 10
const SAMPLE_K = 10
const MAX_LISTED_FAILURES = 20

/** What the alias name currently is in the cluster. */
type LiveView = { kind: 'alias'; index: string; indices: string[] } | { kind: 'concrete'; index: string } | { kind: 'none' }

interface IndexInfo {
  properties: Json
  meta: Json | undefined
  settings: Json
  mappings: Json
}

interface Generations {
  view: LiveView
  /** The index the application reads and writes now: the source of every copy. */
  source: string | null
  records: state.GenerationRecord[]
  /** The live generation: the source index when it holds vectors (registered or adopted). */
  live: state.GenerationRecord | null
}

/** One pass over the documents of the source against one generation's copies. */
interface Survey {
  rows: number
  fresh: number
  stale: number
  missing: number
  unverified: number
  /** Written with no vector (zero_vectors: skip) from the document's current text: done. */
  skipped: number
  /** Stale or missing inside the change window: what catch-up reads. */
  queued: number
  /** Stale or missing outside it: the application changed them without moving updated-at, or the backfill is incomplete. */
  untracked: number
  /** Copies of documents the source no longer holds. */
  deleted: number
}

/** What the hold found still to do in the target. */
interface Drain {
  /** Stale or missing: need a vector. */
  embed: SourceDoc[]
  /** Copies present with their vector but an older version of the rest of the document. */
  outdated: SourceDoc[]
  deleted: string[]
  /** Documents with no copy at all, and copies without a vector, among `embed`. */
  absent: number
  copiesWithoutVector: number
  /** Newest updated-at in the source: the target's next checkpoint. */
  newest: number | null
}

const hash = (v: unknown) => createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16)
export const generationIndex = (c: Collection, id: number) => `${c.target}__g${id}`
const elapsed = (since: number) => Math.round(performance.now() - since)

/**
 * OpenSearch k-NN store: generations are indices `<alias>__gN`, each a full copy of the
 * documents with its own vectors; the application reads and writes the alias, and every switch
 * is one atomic `_aliases` request made while writes to the old index are blocked. Registry,
 * journal and lock live in the `.embedform` index so the cluster stays the source of truth.
 */
export class OpenSearchAdapter implements StoreAdapter {
  readonly kind = 'opensearch' as const
  readonly capabilities: AdapterCapabilities = { concurrentIndex: true, hybridSearch: true, inPlaceIndexRebuild: false, maxIndexDimensions: { vector: 16_000, halfvec: 16_000 } }
  private readonly opts: OpenSearchAdapterOptions
  /** Indices this adapter wrote since it last refreshed them: refreshed before its own reads, so it reads its own writes. */
  private readonly dirty = new Set<string>()
  private readonly spaces = new Map<string, SpaceType>()
  private readonly recordMapped = new Set<string>()
  /**
   * Per generation and source, this process's chain of complete catch-up passes: the newest
   * updated-at when the last one began (the next pass starts there), and the rows the passes
   * handed out that no write() has taken back yet. Every row a pass read was written, or edited
   * again (so its updated-at moved past the floor), once `unhandled` is empty: then the cutover's
   * drain may start at the floor too. Anything else reads the whole window from the recorded
   * checkpoint, so a row a caller dropped is still found.
   */
  private readonly passes = new Map<string, { floor: number | null; unhandled: Set<string> }>()
  private version: { version: ClusterVersion; known: boolean } | null = null
  private readonly slices: SliceLeases

  constructor(
    private readonly http: OsHttp,
    opts: Partial<OpenSearchAdapterOptions> = {},
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts }
    this.slices = new SliceLeases(http)
  }

  private checkTarget(c: Collection): void {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(c.target) || c.target.length > 200) {
      throw inputError('E_OPENSEARCH_NAME', `"${c.target}" is not a valid OpenSearch alias name (lowercase letters, digits, '.', '_', '-'; not starting with '_' or '-')`, {
        location: { path: `collections.${c.name}.target` },
      })
    }
  }

  /**
   * The version whose k-NN rules apply, read once (`GET /`). A user without the cluster monitor
   * privilege cannot read it: then the newest rules embedform knows apply, and `known` says so.
   */
  async clusterVersion(): Promise<{ version: ClusterVersion; known: boolean }> {
    if (this.version) return this.version
    const r = await this.http.request({ method: 'GET', path: '/', accept: [401, 403] })
    if (r.status !== 200) return (this.version = { version: NEWEST_KNOWN, known: false })
    const v = parseVersion(String(r.body.version?.number ?? ''))
    if (!v || (r.body.version?.distribution !== undefined && r.body.version.distribution !== 'opensearch')) {
      throw failure('E_STORE_VERSION', `the store answers as ${String(r.body.version?.distribution ?? 'unknown')} ${String(r.body.version?.number ?? '?')}, not OpenSearch`, {
        hint: 'the opensearch store kind needs an OpenSearch cluster with the k-NN plugin',
      })
    }
    return (this.version = { version: v, known: true })
  }

  private async liveView(c: Collection): Promise<LiveView> {
    this.checkTarget(c)
    const r = await this.http.request({ method: 'GET', path: `/_alias/${enc(c.target)}`, accept: [404] })
    if (r.status === 200 && Object.keys(r.body).length > 0) {
      const entries = Object.entries(r.body) as [string, Json][]
      const write = entries.find(([, v]) => v.aliases?.[c.target]?.is_write_index === true)?.[0]
      const index = write ?? (entries.length === 1 ? entries[0]?.[0] : undefined)
      if (!index) {
        throw failure('E_ALIAS_AMBIGUOUS', `alias ${c.target} points at ${entries.map(([i]) => i).join(', ')} without a write index`, {
          location: { object: `alias ${c.target}` },
          hint: 'mark the index the application writes to with is_write_index: true',
        })
      }
      return { kind: 'alias', index, indices: entries.map(([i]) => i) }
    }
    const head = await this.http.request({ method: 'HEAD', path: `/${enc(c.target)}`, accept: [404] })
    return head.status === 200 ? { kind: 'concrete', index: c.target } : { kind: 'none' }
  }

  private async indexInfo(index: string): Promise<IndexInfo | null> {
    const r = await this.http.request({ method: 'GET', path: `/${enc(index)}`, accept: [404] })
    if (r.status === 404) return null
    const body = (r.body[index] ?? Object.values(r.body)[0]) as Json
    const mappings = (body.mappings ?? {}) as Json
    return { properties: mappings.properties ?? {}, meta: mappings._meta, settings: body.settings?.index ?? {}, mappings }
  }

  private async count(index: string, query?: Json): Promise<number> {
    const r = await this.http.request({ method: 'POST', path: `/${enc(index)}/_count`, body: query ? { query } : {} })
    return Number(r.body.count)
  }

  private async refresh(index: string): Promise<void> {
    await this.http.request({ method: 'POST', path: `/${enc(index)}/_refresh` })
    this.dirty.delete(index)
  }

  /** Makes this adapter's own writes visible to its searches and counts; touches no index it did not write. */
  private async refreshOwn(index: string): Promise<void> {
    if (this.dirty.has(index)) await this.refresh(index)
  }

  /**
   * An index the application reads that embedform never registered (a concrete index named
   * like the alias, or an alias over an index of the team's own) becomes generation 1.
   */
  private adoptedRecord(c: Collection, index: string, info: IndexInfo, taken: Set<number>): state.GenerationRecord {
    const created = Number(info.settings.creation_date)
    let id = 1
    while (taken.has(id)) id++
    return {
      id,
      index,
      profile: c.adoptedProfile ?? null,
      fingerprint: null,
      model: null,
      dimensions: Number(info.properties[c.vector]?.dimension ?? 0),
      storage: 'vector',
      indexSettings: null,
      profileSnapshot: null,
      createdAt: Number.isFinite(created) ? new Date(created).toISOString() : new Date(0).toISOString(),
      restore: null,
      checkpoint: null,
      normalized: false,
      versioned: false,
      wasLive: true,
    }
  }

  private async generations(c: Collection): Promise<Generations> {
    const view = await this.liveView(c)
    const rec = await state.readCollection(this.http, c.target)
    const records = Object.values(rec.generations).sort((a, b) => a.id - b.id)
    if (view.kind === 'none') return { view, source: null, records, live: null }
    let live = records.find((g) => g.index === view.index) ?? null
    if (!live) {
      const info = await this.indexInfo(view.index)
      // An index without the knn_vector field is a collection with no vectors yet, not a generation.
      if (info?.properties[c.vector]?.type === 'knn_vector') {
        live = this.adoptedRecord(c, view.index, info, new Set(records.map((g) => g.id)))
        records.unshift(live)
      }
    }
    return { view, source: view.index, records, live }
  }

  private async requireGeneration(c: Collection, id: number): Promise<Generations & { g: state.GenerationRecord }> {
    const gens = await this.generations(c)
    const g = gens.records.find((r) => r.id === id)
    if (!g) {
      throw failure('E_GENERATION_MISSING', `generation g${id} of collection ${c.name} is not registered in ${state.STATE_INDEX}`, {
        location: { object: `index ${generationIndex(c, id)}` },
        hint: 'run `embedform plan` to see the generations that exist',
      })
    }
    return { ...gens, g }
  }

  private requireSource(c: Collection, source: string | null): string {
    if (!source) throw failure('E_NO_SOURCE', `collection ${c.name} has no index ${c.target} to copy documents from`, { location: { object: `alias ${c.target}` } })
    return source
  }

  /** Read-only: no refresh of any index the application writes, no writes. */
  async inspect(c: Collection): Promise<LiveState> {
    const { view, source, records, live } = await this.generations(c)
    const generations: GenerationState[] = []
    for (const g of records) {
      const info = await this.indexInfo(g.index)
      if (!info) continue
      await this.refreshOwn(g.index)
      const knn = info.properties[c.vector] as Json | undefined
      const own = g.indexSettings !== null
      generations.push({
        id: g.id,
        status: g === live ? 'live' : g.wasLive ? 'retained' : 'building',
        physical: g.index,
        profile: g.profile,
        fingerprint: g.fingerprint,
        model: g.model,
        dimensions: Number(knn?.dimension ?? g.dimensions),
        storage: g.storage,
        populated: await this.count(g.index, { exists: { field: c.vector } }),
        index: knn
          ? {
              name: `${g.index}.${c.vector}`,
              method: describeKnn(knn),
              valid: knn.type === 'knn_vector',
              settingsHash: own && g.indexSettings ? osIndexSettingsHash(g.indexSettings, g.normalized) : hash(knn),
            }
          : null,
        indexSettings: g.indexSettings,
        profileSnapshot: g.profileSnapshot,
        createdAt: g.createdAt,
      })
    }
    const rows = source ? await this.count(source) : 0
    const [lock, journal] = await Promise.all([state.readLock(this.http, c.target), state.readJournal(this.http, c.target)])
    return {
      collection: c.name,
      exists: view.kind !== 'none',
      rows,
      rowsExact: true,
      generations,
      live: live?.id ?? null,
      lock,
      journal,
      version: hash({ view, gens: generations.map((g) => [g.id, g.physical, g.status, g.fingerprint, g.index?.settingsHash ?? null]) }),
      ...(view.kind === 'concrete' ? { adoptable: view.index } : {}),
    }
  }

  /** How a concrete index named like the alias becomes an alias, and what rollback remains. */
  async describeAdoption(c: Collection): Promise<string[]> {
    const { view, live } = await this.generations(c)
    if (view.kind !== 'concrete') return []
    if (!live) {
      return [
        `${c.target} is a concrete index without vectors; the first cutover turns it into an alias without read downtime:`,
        `writes to ${c.target} are blocked (PUT /${c.target}/_block/write) while the last changes are copied into the new generation; application writes fail with cluster_block_exception meanwhile and must be retried`,
        `one _aliases request: add alias ${c.target} -> the new generation (is_write_index) and remove_index ${c.target}; readers switch with no gap`,
        `rollback: none to the original index, which is deleted by that request; its documents live on in the new generation`,
      ]
    }
    const clone = generationIndex(c, live.id)
    return [
      `${c.target} is a concrete index with vectors, not an alias; the adopt step makes it one without read downtime:`,
      `1. block writes on ${c.target} (PUT /${c.target}/_block/write): application writes fail with cluster_block_exception for the few seconds the clone takes and must be retried; reads continue`,
      `2. _clone ${c.target} -> ${clone} (same documents and vectors, hard-linked segments), then lift the block on ${clone}`,
      `3. one _aliases request: add alias ${c.target} -> ${clone} (is_write_index) and remove_index ${c.target}; readers switch with no gap`,
      `rollback: the alias can be pointed at ${clone} (g${live.id}, the clone of the original) until gc drops it`,
      `if step 2 or 3 fails, ${clone} is deleted and ${c.target} is unblocked: nothing changed`,
    ]
  }

  /**
   * Taking the lock also lifts a write block that a cutover or adoption killed during its hold
   * left behind: whoever set it no longer holds the lock, so the application's writes are
   * refused for no one.
   */
  async lock(c: Collection, holder: string): Promise<Release> {
    const release = await state.acquireLock(this.http, c.target, holder)
    try {
      const hold = await state.readHold(this.http, c.target)
      if (hold) {
        await this.unblockWrites(hold.index)
        await state.clearHold(this.http, c.target)
      }
    } catch (e) {
      await release()
      throw e
    }
    return release
  }

  /** Lifts the hold on `index` (unless the swap removed it) and its record, which was written before the block so a killed process leaves a trace to undo. */
  private async release(c: Collection, index: string, removed: boolean): Promise<void> {
    if (!removed) await this.unblockWrites(index)
    await state.clearHold(this.http, c.target)
  }

  /**
   * The k-NN rules of the cluster's version for `spec`, and what the new generation carries
   * over from the live index; read-only. Plan shows both; createGeneration refuses on the first.
   */
  /** The generation a plan would create, by the k-NN rules of the cluster's version, and what it carries over. */
  private async generationChecks(c: Collection, spec: GenerationSpec): Promise<{ errors: EmbedformError[]; notes: string[] }> {
    const notes: string[] = []
    const { version, known } = await this.clusterVersion()
    if (!known) notes.push(`the cluster's version could not be read (GET / refused): k-NN rules checked against OpenSearch ${versionText(NEWEST_KNOWN)}, the newest embedform knows`)
    const errors: EmbedformError[] = this.knnErrors(spec, version)
    notes.push(...knnAdvice(knnInput(spec.index, spec.normalized), version))
    const { source } = await this.generations(c)
    const info = source ? await this.indexInfo(source) : null
    if (source && info) {
      try {
        checkSortableKey(c, source, info.properties)
      } catch (e) {
        errors.push(e as EmbedformError)
      }
      const sourceProblem = this.sourceProblem(c, source, info)
      if (sourceProblem) errors.push(sourceProblem)
      const carried = carriedFrom({ settings: info.settings, mappings: info.mappings })
      notes.push(...describeCarried(carried, c.vector).map((line) => `g${spec.id} carries from ${source}: ${line}`))
      notes.push(`g${spec.id} changes ${c.vector}: ${describeKnn(info.properties[c.vector])} -> ${describeKnn(knnFieldMapping(spec, version))}`)
      const excluded = (info.mappings._source?.excludes ?? []) as string[]
      const lost = excluded.filter((f) => f !== c.vector)
      if (lost.length > 0) notes.push(`fields excluded from _source (${lost.join(', ')}) cannot be copied: their values are not searchable in g${spec.id}`)
    }
    return { errors, notes }
  }

  private knnErrors(spec: GenerationSpec, version: ClusterVersion): EmbedformError[] {
    return knnViolations(knnInput(spec.index, spec.normalized), version).map((v) =>
      inputError('E_KNN_RULES', `profile ${spec.profile}: ${v.message}`, {
        location: { ...(spec.profileSnapshot.file ? { file: spec.profileSnapshot.file } : {}), path: `index.opensearch.${v.key}` },
        hint: v.hint,
      }),
    )
  }

  private sourceProblem(c: Collection, source: string, info: IndexInfo): EmbedformError | null {
    if (info.mappings._routing?.required === true) {
      return inputError('E_ROUTING_REQUIRED', `${source} requires custom routing (_routing.required), and embedform does not carry each document's routing into its copies`, {
        location: { object: `index ${source}`, path: `collections.${c.name}.alias` },
        hint: 'migrate this index with routing left to the document id, or copy it yourself; _routing mappings that are not required are carried over',
      })
    }
    if (info.mappings._source?.enabled === false) {
      return inputError('E_SOURCE_DISABLED', `${source} does not keep _source, so its documents cannot be copied into a new generation`, {
        location: { object: `index ${source}`, path: `collections.${c.name}.alias` },
        hint: 'OpenSearch can only copy documents whose _source is stored (the same limit as _reindex)',
      })
    }
    return null
  }

  async createGeneration(c: Collection, spec: GenerationSpec): Promise<void> {
    if (spec.dimensions < 1 || spec.dimensions > 16_000) {
      throw inputError('E_DIMENSIONS', `knn_vector supports 1 to 16,000 dimensions, profile ${spec.profile} has ${spec.dimensions}`, { location: { path: `profiles.${spec.profile}.dimensions` } })
    }
    const index = generationIndex(c, spec.id)
    const { source } = await this.generations(c)
    const rec = await state.readCollection(this.http, c.target)
    const existing = await this.indexInfo(index)
    if (rec.generations[String(spec.id)] && existing) return
    if (existing && existing.meta?.embedform?.fingerprint !== spec.fingerprint) {
      throw failure('E_INDEX_EXISTS', `index ${index} already exists and was not made for fingerprint ${spec.fingerprint}`, {
        location: { object: `index ${index}` },
        hint: `delete it if it is a leftover (DELETE /${index}) and run apply again`,
      })
    }
    const { version } = await this.clusterVersion()
    const refused = this.knnErrors(spec, version)
    if (refused.length > 0) throw refused.length === 1 ? (refused[0] as EmbedformError) : new EmbedformErrors(refused)
    const liveInfo = source ? await this.indexInfo(source) : null
    if (source && liveInfo) {
      checkSortableKey(c, source, liveInfo.properties)
      const problem = this.sourceProblem(c, source, liveInfo)
      if (problem) throw problem
    }
    const carried: Carried | null = liveInfo ? carriedFrom({ settings: liveInfo.settings, mappings: liveInfo.mappings }) : null
    const restore = {
      refresh_interval: carried?.settings.refresh_interval === undefined ? null : String(carried.settings.refresh_interval),
      number_of_replicas: carried?.settings.number_of_replicas === undefined ? null : String(carried.settings.number_of_replicas),
    }
    if (!existing) {
      this.spaces.delete(index)
      const settings: Json = {}
      for (const [k, v] of Object.entries(carried?.settings ?? {})) if (!(RESTORED_AFTER_LOAD as readonly string[]).includes(k)) settings[`index.${k}`] = v
      await this.http.request({
        method: 'PUT',
        path: `/${enc(index)}`,
        body: {
          // Bulk load without refreshes or replica copies; buildIndex (or the cutover) puts the live values back.
          settings: { ...settings, 'index.knn': true, 'index.refresh_interval': '-1', 'index.number_of_replicas': 0 },
          mappings: generationMapping(c, carried, spec, version),
        },
      })
    }
    rec.generations[String(spec.id)] = {
      id: spec.id,
      index,
      profile: spec.profile,
      fingerprint: spec.fingerprint,
      model: spec.model,
      dimensions: spec.dimensions,
      storage: spec.storage,
      indexSettings: spec.index,
      profileSnapshot: spec.profileSnapshot,
      createdAt: new Date().toISOString(),
      restore,
      checkpoint: source ? await this.newestUpdate(c, source, liveInfo) : null,
      normalized: spec.normalized,
      versioned: c.updatedAt !== undefined,
      wasLive: false,
    }
    await state.writeCollection(this.http, c.target, rec)
  }

  /**
   * Newest updated-at value in `source` after a refresh: the checkpoint of a copy that starts now.
   * Taken from the application's own values, so the window never depends on our clock.
   */
  private async newestUpdate(c: Collection, source: string, info?: IndexInfo | null): Promise<number | null> {
    if (!c.updatedAt) return null
    await this.refresh(source)
    return this.maxUpdatedAt(c, source, info)
  }

  /** Newest updated-at in what `source` shows searches now (no refresh). */
  private async maxUpdatedAt(c: Collection, source: string, info?: IndexInfo | null): Promise<number | null> {
    if (!c.updatedAt) return null
    const type = fieldMapping((info ?? (await this.indexInfo(source)))?.properties ?? {}, c.updatedAt)?.type
    if (!type) return 0
    const r = await this.http.request({ method: 'POST', path: `/${enc(source)}/_search`, body: { size: 0, track_total_hits: false, aggs: { newest: { max: { field: c.updatedAt } } } } })
    const v = r.body.aggregations?.newest?.value
    return typeof v === 'number' && Number.isFinite(v) ? v : 0
  }

  /** The change window of `g`: documents of the source with updated-at from the checkpoint on; undefined = no window, compare all. */
  private async windowQuery(c: Collection, g: state.GenerationRecord, source: string, from: number | null = g.checkpoint): Promise<Json | undefined> {
    if (!c.updatedAt || from === null) return undefined
    const type = fieldMapping((await this.indexInfo(source))?.properties ?? {}, c.updatedAt)?.type
    // Dates take epoch millis only with an explicit format; numeric fields refuse a format.
    const bound = { gte: from - this.opts.catchupMarginMs, ...(type === 'date' || type === 'date_nanos' ? { format: 'epoch_millis' } : {}) }
    return { range: { [c.updatedAt]: bound } }
  }

  private inWindow(c: Collection, g: state.GenerationRecord): (d: SourceDoc) => boolean {
    if (!c.updatedAt || g.checkpoint === null) return () => true
    const from = g.checkpoint - this.opts.catchupMarginMs
    return (d) => d.updatedAt !== undefined && d.updatedAt >= from
  }

  private pendingRow(d: SourceDoc): PendingRow {
    const version = externalVersion(d)
    return { key: d.id, text: d.text, token: d.hash, ...(version !== undefined ? { version } : {}) }
  }

  private async *scanSource(c: Collection, source: string, pageSize: number, query?: Json, slice?: KeyRange['slice']): AsyncIterable<SourceDoc[]> {
    for await (const hits of scanIndex(this.http, source, { sortField: c.key, pageSize, sourceExcludes: [c.vector, RECORD_FIELD], ...(query ? { query } : {}), ...(slice ? { slice } : {}) })) {
      yield hits.map((h) => sourceDoc(c, h.id, h.source))
    }
  }

  /**
   * backfill: every document of the source without a vector in `g` (a full scan, in key order;
   * with a leased range, only its slice of a sliced point-in-time search).
   * catchup: the change window
   * of `g` (see copies.ts), after a refresh of the source so that no acknowledged write is
   * missed; documents whose copy only lacks a newer version of other fields are re-copied, and
   * copies of deleted documents removed, by the adapter itself.
   */
  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    const { g, source: s } = await this.requireGeneration(c, generation)
    if (!s) return
    const source = s
    const live = g.index === source
    const info = await this.indexInfo(source)
    checkSortableKey(c, source, info?.properties ?? {})
    await this.refreshOwn(g.index)
    const chain = opts.phase === 'catchup' ? this.chainOf(g, source) : undefined
    // Newest updated-at when this pass starts: the next pass of this process starts there.
    await this.refresh(source)
    const newest = opts.phase === 'catchup' ? await this.maxUpdatedAt(c, source, info) : null
    const query = opts.phase === 'catchup' ? await this.windowQuery(c, g, source, this.windowStart(g, chain)) : undefined
    let absent = 0
    const slice = opts.phase === 'backfill' ? opts.range?.slice : undefined
    for await (const docs of this.scanSource(c, source, opts.batchSize, query, slice)) {
      const copies = await readCopies(this.http, c, g.index, docs.map((d) => d.id))
      const rows: PendingRow[] = []
      const outdated: SourceDoc[] = []
      for (const d of docs) {
        const copy = copies.get(d.id)
        const st = rowState(d, copy)
        if (opts.phase === 'backfill') {
          if (st === 'missing') rows.push(this.pendingRow(d))
          continue
        }
        if (st === 'stale' || st === 'missing') {
          rows.push(this.pendingRow(d))
          if (!copy) absent++
        } else if (!live && copyOutdated(d, copy)) outdated.push(d)
      }
      if (outdated.length > 0) await this.recopy(c, g, outdated)
      for (const r of rows) chain?.unhandled.add(String(r.key))
      if (rows.length > 0) yield rows
    }
    if (opts.phase === 'catchup' && !live) {
      const deleted = await this.deletedCopies(c, g, source, absent, opts.batchSize)
      if (deleted.length > 0) await this.removeCopies(g, deleted)
    }
    if (chain && newest !== null) chain.floor = newest
  }

  private chainOf(g: state.GenerationRecord, source: string): { floor: number | null; unhandled: Set<string> } {
    const key = `${g.index}<-${source}`
    let chain = this.passes.get(key)
    if (!chain) this.passes.set(key, (chain = { floor: null, unhandled: new Set() }))
    return chain
  }

  /** Where a window starts: the recorded checkpoint, or this process's last complete pass when nothing it handed out is unaccounted for. */
  private windowStart(g: state.GenerationRecord, chain: { floor: number | null; unhandled: Set<string> } | undefined, requireHandled = false): number | null {
    if (g.checkpoint === null) return null
    if (!chain || chain.floor === null || (requireHandled && chain.unhandled.size > 0)) return g.checkpoint
    return Math.max(g.checkpoint, chain.floor)
  }

  /**
   * Ids of copies in `g` whose document is gone from the source. Counts first: only when `g`
   * holds more than the source will (after `absent` more inserts) are the id sets compared.
   */
  private async deletedCopies(c: Collection, g: state.GenerationRecord, source: string, absent: number, pageSize: number): Promise<string[]> {
    await this.refresh(g.index)
    const [inSource, inCopy] = [await this.count(source), await this.count(g.index)]
    if (inCopy + absent <= inSource) return []
    const gone: string[] = []
    for await (const hits of scanIndex(this.http, g.index, { sortField: c.key, pageSize, sourceIncludes: [c.key] })) {
      const r = await this.http.request({ method: 'POST', path: `/${enc(source)}/_mget`, query: { _source: 'false' }, body: { ids: hits.map((h) => h.id) } })
      const present = new Set(((r.body.docs ?? []) as Json[]).filter((d) => d.found).map((d) => String(d._id)))
      gone.push(...hits.filter((h) => !present.has(h.id)).map((h) => h.id))
    }
    return gone
  }

  private async removeCopies(g: state.GenerationRecord, ids: string[]): Promise<void> {
    const items: BulkItem[] = ids.map((id) => ({ id, op: 'delete' }))
    this.dirty.add(g.index)
    this.throwFailures(g.index, items.length, await bulkWrite(this.http, g.index, items, this.opts.bulk))
  }

  /**
   * Puts the source's current version of `docs` into `g` without embedding, keeping the copy's
   * vector and record (only other fields changed, or a cutover accepting stale vectors); a
   * document without a copy is copied without a vector.
   */
  private async recopy(c: Collection, g: state.GenerationRecord, docs: SourceDoc[]): Promise<void> {
    const r = await this.http.request({
      method: 'POST',
      path: `/${enc(g.index)}/_mget`,
      query: { _source_includes: `${c.vector},${RECORD_FIELD}.*` },
      body: { ids: docs.map((d) => d.id) },
    })
    const held = new Map(((r.body.docs ?? []) as Json[]).filter((d) => d.found).map((d) => [String(d._id), (d._source ?? {}) as Json]))
    const items: BulkItem[] = docs.map((d) => {
      const mine = held.get(d.id) ?? {}
      const version = externalVersion(d)
      const body: Json = { ...sharedSource(c, d.source), ...(mine[c.vector] ? { [c.vector]: mine[c.vector] } : {}), ...(mine[RECORD_FIELD] ? { [RECORD_FIELD]: mine[RECORD_FIELD] } : {}) }
      return { id: d.id, op: 'index', source: body, ...(version !== undefined ? { version } : {}) }
    })
    this.dirty.add(g.index)
    this.throwFailures(g.index, items.length, await bulkWrite(this.http, g.index, items, this.opts.bulk))
  }

  private async ensureRecordMapping(index: string): Promise<void> {
    if (this.recordMapped.has(index)) return
    const info = await this.indexInfo(index)
    // Indices made before the skipped marker existed get it added (adding a field to an object is allowed).
    if (info && !(info.properties[RECORD_FIELD] as Json | undefined)?.properties?.skipped) {
      await this.http.request({ method: 'PUT', path: `/${enc(index)}/_mapping`, body: { properties: { [RECORD_FIELD]: RECORD_MAPPING } } })
    }
    this.recordMapped.add(index)
  }

  /**
   * Each vector goes in with the source's current document and the hash of the text it was made
   * from. A row whose text changed since pending() read it is skipped (it stays queued). Copies
   * are versioned with updated-at (external_gte: an older copy never replaces a newer one); the
   * live index, which the application writes too, is written only if the document is still the
   * one just read (if_seq_no / if_primary_term).
   */
  async write(c: Collection, generation: number, rows: VectorRow[], opts: WriteOptions = {}): Promise<void> {
    if (rows.length === 0) return
    const { g, source: s } = await this.requireGeneration(c, generation)
    const source = this.requireSource(c, s)
    const live = g.index === source
    if (live && !opts.live) {
      throw failure('E_WRITE_LIVE', `g${generation} of ${c.name} is live (index ${g.index}): writing it needs the live option (sync)`, {
        location: { object: `index ${g.index}` },
        hint: 'apply writes only the generation it builds; `embedform sync` keeps the live one fresh',
      })
    }
    await this.ensureRecordMapping(g.index)
    const cosine = (await this.spaceOf(c, g.index)) === 'cosinesimil'
    const zero = rows.filter((r) => r.vector !== null && isZeroVector(r.vector))
    if (cosine && zero.length > 0) {
      // Input, not a store failure: the data and the profile disagree, and retrying cannot help.
      throw inputError('E_ZERO_VECTOR', `${zero.length} document(s) of ${c.name} encode to a zero vector (${zero.slice(0, 5).map((r) => String(r.key)).join(', ')}), which the k-NN plugin refuses under space_type cosinesimil`, {
        location: { object: `index ${g.index}` },
        hint: 'empty or out-of-vocabulary text encodes to zeros: set `zero_vectors: skip` in the profile (those documents get no vector and count as skipped), give them text, or use a normalized profile (innerproduct) or metric l2; then `embedform plan`',
      })
    }
    const r = await this.http.request({
      method: 'POST',
      path: `/${enc(source)}/_mget`,
      query: { _source_excludes: `${c.vector},${RECORD_FIELD}` },
      body: { ids: rows.map((row) => String(row.key)) },
    })
    const current = new Map(((r.body.docs ?? []) as Json[]).filter((d) => d.found).map((d) => [String(d._id), d]))
    const items: BulkItem[] = []
    for (const row of rows) {
      const found = current.get(String(row.key))
      // Deleted meanwhile: the catch-up removes the copy.
      if (!found) continue
      const d = sourceDoc(c, String(row.key), found._source as Json)
      if (row.token !== undefined && d.hash !== row.token) continue
      // A skipped row keeps its record and no knn_vector field at all (the field is optional).
      const record: VectorRecord = row.vector === null ? { text_hash: d.hash, skipped: true } : { text_hash: d.hash, ...(isZeroVector(row.vector) ? { zero_vector: true as const } : {}) }
      const body = { ...sharedSource(c, d.source), ...(row.vector === null ? {} : { [c.vector]: Array.from(row.vector) }), [RECORD_FIELD]: record }
      // The version the vector was made for: a copy the index already holds in a newer version is kept.
      const version = row.version !== undefined && row.version >= 0 ? row.version : externalVersion(d)
      items.push({
        id: d.id,
        op: 'index',
        source: body,
        ...(live ? { ifSeqNo: Number(found._seq_no), ifPrimaryTerm: Number(found._primary_term) } : version !== undefined ? { version } : {}),
      })
    }
    this.dirty.add(g.index)
    this.throwFailures(g.index, rows.length, await bulkWrite(this.http, g.index, items, this.opts.bulk))
    // Written, deleted meanwhile (counts find it) or edited again (a later window holds it): accounted for.
    const chain = this.passes.get(`${g.index}<-${source}`)
    for (const row of rows) chain?.unhandled.delete(String(row.key))
  }

  private throwFailures(index: string, total: number, res: Awaited<ReturnType<typeof bulkWrite>>): void {
    if (res.failures.length === 0) return
    const listed = res.failures.slice(0, MAX_LISTED_FAILURES).map((f) => `${f.id} (${f.status} ${f.reason})`)
    const more = res.failures.length > MAX_LISTED_FAILURES ? `; and ${res.failures.length - MAX_LISTED_FAILURES} more` : ''
    const err = failure('E_BULK_FAILED', `${res.failures.length} of ${total} documents were not written to ${index}: ${listed.join('; ')}${more}`, {
      location: { object: `index ${index}` },
      hint: 'the documents that were written stay; run apply again to retry the rest',
    })
    throw Object.assign(err, { failures: res.failures })
  }

  /** One pass over every document of the source against the copies in `g`. */
  private async survey(c: Collection, g: state.GenerationRecord, source: string): Promise<Survey> {
    checkSortableKey(c, source, (await this.indexInfo(source))?.properties ?? {})
    await this.refreshOwn(g.index)
    const live = g.index === source
    const inWindow = this.inWindow(c, g)
    const s: Survey = { rows: 0, fresh: 0, stale: 0, missing: 0, unverified: 0, skipped: 0, queued: 0, untracked: 0, deleted: 0 }
    let copied = 0
    for await (const docs of this.scanSource(c, source, 1000)) {
      const copies = await readCopies(this.http, c, g.index, docs.map((d) => d.id))
      copied += copies.size
      for (const d of docs) {
        const st = rowState(d, copies.get(d.id))
        s.rows++
        s[st]++
        if (st === 'stale' || st === 'missing') {
          if (inWindow(d)) s.queued++
          else s.untracked++
        }
      }
    }
    if (!live) {
      s.deleted = Math.max(0, (await this.count(g.index)) - copied)
      s.queued += s.deleted
    }
    return s
  }

  /** Reads the searchable state of the application's index as of its last refresh, and no more: it never refreshes it. */
  async freshness(c: Collection, generation: number): Promise<Freshness> {
    const { g, source } = await this.requireGeneration(c, generation)
    if (!source) return { generation, rows: 0, fresh: 0, stale: 0, missing: 0, skipped: 0, unverified: 0, queued: 0, exact: true }
    const s = await this.survey(c, g, source)
    return { generation, rows: s.rows, fresh: s.fresh, stale: s.stale, missing: s.missing, skipped: s.skipped, unverified: s.unverified, queued: s.queued, exact: true }
  }

  /** Undoes the bulk-load settings (refresh -1, 0 replicas): the index must refresh like the live one before it is read or made live. */
  private async restoreAfterLoad(g: state.GenerationRecord): Promise<void> {
    if (!g.restore) return
    await this.http.request({ method: 'PUT', path: `/${enc(g.index)}/_settings`, body: { index: { refresh_interval: g.restore.refresh_interval, number_of_replicas: g.restore.number_of_replicas } } })
  }

  async buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void): Promise<void> {
    const { g } = await this.requireGeneration(c, generation)
    // The HNSW graphs are built while documents are indexed; what is left is to undo the bulk-load settings.
    await this.restoreAfterLoad(g)
    await this.refresh(g.index)
    const n = await this.count(g.index)
    onProgress?.(n, n)
  }

  async dropIndex(c: Collection, generation: number): Promise<void> {
    throw failure('E_UNSUPPORTED', `OpenSearch cannot drop the k-NN graph of g${generation} of ${c.name} in place: it is part of index ${generationIndex(c, generation)}`, {
      location: { object: `index ${generationIndex(c, generation)}` },
      hint: 'index settings change on OpenSearch by building a new generation with the new settings',
    })
  }

  async verify(c: Collection, generation: number): Promise<VerifyReport> {
    const { g, source } = await this.requireGeneration(c, generation)
    await this.refreshOwn(g.index)
    const info = await this.indexInfo(g.index)
    const knn = info?.properties[c.vector] as Json | undefined
    const s = source ? await this.survey(c, g, source) : null
    const total = s?.rows ?? 0
    const populated = await this.count(g.index, { exists: { field: c.vector } })
    const dims = Number(knn?.dimension)
    const wrongDimensions = g.indexSettings && dims !== g.dimensions ? populated : 0
    const zeroVectors = await this.count(g.index, { term: { [`${RECORD_FIELD}.zero_vector`]: true } })
    const space = await this.spaceOf(c, g.index)
    const sample = knn?.type === 'knn_vector' ? await this.sampleNeighbours(c, g.index, space) : { checked: 0, selfFound: 0, recall: null }
    const problems: string[] = []
    const missing = s?.missing ?? 0
    const skipped = s?.skipped ?? 0
    const stale = s?.stale ?? 0
    const untracked = s?.untracked ?? 0
    if (untracked > 0) {
      problems.push(
        `${untracked} of the ${missing + stale} stale or missing documents of ${g.index} (${missing} missing, ${stale} stale, of ${total}) are outside the change window${c.updatedAt ? `: their ${c.updatedAt} is older than the generation's checkpoint (the application changed them without setting ${c.updatedAt}, or the backfill is incomplete)` : ''}`,
      )
    }
    if (wrongDimensions > 0) problems.push(`${g.index} maps ${c.vector} with ${dims} dimensions, the generation has ${g.dimensions}`)
    if (knn?.type !== 'knn_vector') problems.push(`${c.vector} in ${g.index} is not a knn_vector field`)
    if (sample.selfFound < sample.checked) problems.push(`${sample.checked - sample.selfFound} of ${sample.checked} sampled documents did not find themselves by exact search among their ${SAMPLE_K} nearest neighbours`)
    return {
      generation,
      total,
      populated,
      missing,
      skipped,
      stale,
      untracked,
      zeroVectors,
      wrongDimensions,
      indexValid: knn ? knn.type === 'knn_vector' : null,
      sample: { checked: sample.checked, selfFound: sample.selfFound },
      indexRecall: sample.recall,
      ok: problems.length === 0,
      problems,
    }
  }

  /**
   * The first documents by key that have a vector: each must find itself by exact search
   * (k-NN's knn_score script, no graph), where an identical vector ranking first counts too;
   * recall@10 of the approximate query against the exact one is reported beside it.
   */
  private async sampleNeighbours(c: Collection, index: string, space: SpaceType): Promise<{ checked: number; selfFound: number; recall: number | null }> {
    const r = await this.http.request({
      method: 'POST',
      path: `/${enc(index)}/_search`,
      body: { size: SAMPLE_DOCS, query: { exists: { field: c.vector } }, sort: [{ [c.key]: 'asc' }], _source: { includes: [c.vector] } },
    })
    const docs = (r.body.hits?.hits ?? []) as Json[]
    let selfFound = 0
    let checked = 0
    let recallSum = 0
    for (const d of docs) {
      const vector = d._source?.[c.vector] as number[] | undefined
      // A vector field excluded from _source cannot be sampled.
      if (!Array.isArray(vector)) continue
      const exact = await this.http.request({
        method: 'POST',
        path: `/${enc(index)}/_search`,
        body: {
          size: SAMPLE_K,
          _source: false,
          query: { script_score: { query: { exists: { field: c.vector } }, script: { source: 'knn_score', lang: 'knn', params: { field: c.vector, query_value: vector, space_type: space } } } },
        },
      })
      const exactHits = (exact.body.hits?.hits ?? []) as Json[]
      const tiedWithFirst = exactHits.length > 0 && Number(exactHits[exactHits.length - 1]?._score) === Number(exactHits[0]?._score)
      if (exactHits.some((h) => h._id === d._id) || tiedWithFirst) selfFound++
      const approx = await this.http.request({ method: 'POST', path: `/${enc(index)}/_search`, body: { size: SAMPLE_K, _source: false, query: { knn: { [c.vector]: { vector, k: SAMPLE_K } } } } })
      const approxIds = new Set(((approx.body.hits?.hits ?? []) as Json[]).map((h) => h._id))
      recallSum += exactHits.length === 0 ? 1 : exactHits.filter((h) => approxIds.has(h._id)).length / exactHits.length
      checked++
    }
    return { checked, selfFound, recall: checked === 0 ? null : recallSum / checked }
  }

  /** Blocks writes to `index` and waits until writes in flight have finished (unlike setting index.blocks.write). */
  private async blockWrites(index: string): Promise<void> {
    await this.http.request({ method: 'PUT', path: `/${enc(index)}/_block/write` })
  }

  private async unblockWrites(index: string): Promise<void> {
    await this.http.request({ method: 'PUT', path: `/${enc(index)}/_settings`, body: { index: { blocks: { write: false } } }, accept: [404] })
  }

  /** Everything `g` still lacks against the (write-blocked) source: the change window, or every document when counts show more. */
  private async drain(c: Collection, g: state.GenerationRecord, source: string, full: boolean): Promise<Drain> {
    const query = full ? undefined : await this.windowQuery(c, g, source, this.windowStart(g, this.passes.get(`${g.index}<-${source}`), true))
    const out: Drain = { embed: [], outdated: [], deleted: [], absent: 0, copiesWithoutVector: 0, newest: null }
    for await (const docs of this.scanSource(c, source, 1000, query)) {
      const copies: Map<string, Copy> = await readCopies(this.http, c, g.index, docs.map((d) => d.id))
      for (const d of docs) {
        const copy = copies.get(d.id)
        const st = rowState(d, copy)
        if (st === 'stale' || st === 'missing') {
          out.embed.push(d)
          if (!copy) out.absent++
          else if (!copy.hasVector && !copy.skipped) out.copiesWithoutVector++
        } else if (copyOutdated(d, copy)) out.outdated.push(d)
      }
    }
    out.deleted = await this.deletedCopies(c, g, source, out.absent, 1000)
    out.newest = await this.newestUpdate(c, source)
    return out
  }

  /**
   * Holds the application's writes back (a write block on the index it writes, which waits for
   * writes in flight), copies every change made since the generation's checkpoint into it and
   * embeds what needs a vector through `opts.embed`, checks that the copy holds exactly the
   * documents of the source, and switches the alias in one `_aliases` request before lifting
   * the block. A write acknowledged before the block is in the drain; one attempted during the
   * hold is refused with cluster_block_exception (the application retries it, and the retry
   * lands in the new live index). Readers are never blocked.
   */
  async cutover(c: Collection, generation: number, opts: CutoverOptions): Promise<CutoverResult> {
    const { g, view, live, source: s } = await this.requireGeneration(c, generation)
    if (live?.id === g.id) return { status: 'done', heldMs: 0, swapMs: 0, embeddedWhileHeld: 0, leftStale: 0 }
    const source = this.requireSource(c, s)
    if (view.kind === 'concrete' && live) {
      throw failure('E_ADOPT_FIRST', `${c.target} is a concrete index with vectors: it must be adopted (cloned into ${generationIndex(c, live.id)} behind an alias) before a cutover`, {
        location: { object: `index ${c.target}` },
        hint: 'run `embedform plan` and `embedform apply`: the plan starts with the adopt step',
      })
    }
    await this.restoreAfterLoad(g)
    await state.writeHold(this.http, c.target, source)
    const holdStart = performance.now()
    await this.blockWrites(source)
    let removed = false
    try {
      await this.refresh(source)
      await this.refresh(g.index)
      let drain = await this.drain(c, g, source, false)
      if (!(await this.complete(c, g, source, drain))) drain = await this.drain(c, g, source, true)
      const pending = drain.embed.length
      const embedNow = opts.embed !== undefined && pending <= opts.maxHeldRows
      if (pending > 0 && !embedNow && !opts.acceptStale) return { status: 'behind', pending, heldMs: elapsed(holdStart) }
      if (drain.deleted.length > 0) await this.removeCopies(g, drain.deleted)
      if (drain.outdated.length > 0) await this.recopy(c, g, drain.outdated)
      let embedded = 0
      if (pending > 0 && embedNow && opts.embed) {
        const vectors = await opts.embed(drain.embed.map((d) => this.pendingRow(d)))
        await this.write(c, g.id, vectors)
        embedded = vectors.length
      } else if (pending > 0) {
        await this.recopy(c, g, drain.embed)
      }
      await this.refresh(g.index)
      const leftStale = opts.acceptStale ? await this.staleAfterDrain(c, g, drain.embed) : 0
      const [inSource, inCopy, withVector, skipped] = [await this.count(source), await this.count(g.index), await this.count(g.index, { exists: { field: c.vector } }), await this.countSkipped(g.index)]
      // After the drain every skipped copy was recorded from its document's current text: done, like a vector.
      if (inSource !== inCopy || (!opts.acceptStale && withVector + skipped !== inCopy) || (!opts.acceptStale && (await this.staleAfterDrain(c, g, drain.embed)) > 0)) {
        throw failure('E_CUTOVER_MISMATCH', `after the drain ${g.index} holds ${inCopy} documents (${withVector} with a vector, ${skipped} skipped), the write-blocked ${source} ${inSource}: the cutover was not made`, {
          location: { object: `index ${g.index}` },
          hint: 'nothing readers see changed; run apply again (verify reports what differs)',
        })
      }
      const rec = await state.readCollection(this.http, c.target)
      // Registered before the switch, so an adopted index is never forgotten if the process dies in between.
      if (live) rec.generations[String(live.id)] = { ...live, wasLive: true }
      await state.writeCollection(this.http, c.target, rec)
      const swapStart = performance.now()
      const add = { add: { index: g.index, alias: c.target, is_write_index: true } }
      const actions = view.kind === 'concrete' ? [add, { remove_index: { index: source } }] : [...(view.kind === 'alias' ? view.indices.map((index) => ({ remove: { index, alias: c.target } })) : []), add]
      await this.http.request({ method: 'POST', path: '/_aliases', body: { actions } })
      removed = view.kind === 'concrete'
      const swapMs = elapsed(swapStart)
      const heldMs = elapsed(holdStart)
      const next = rec.generations[String(g.id)] ?? g
      // Complete at the hold: its change queue starts there. With stale rows left, the old checkpoint still covers them.
      rec.generations[String(g.id)] = { ...next, wasLive: true, checkpoint: leftStale === 0 ? drain.newest : next.checkpoint }
      for (const key of [...this.passes.keys()]) if (key.startsWith(`${g.index}<-`)) this.passes.delete(key)
      await state.writeCollection(this.http, c.target, rec)
      return { status: 'done', heldMs, swapMs, embeddedWhileHeld: embedded, leftStale }
    } finally {
      await this.release(c, source, removed)
    }
  }

  /**
   * Whether the window drain accounts for every difference: once its inserts and deletes are
   * applied the counts agree, and every copy without a vector is in it. When not (documents
   * changed without updated-at, an incomplete backfill), the hold compares everything.
   */
  private async complete(c: Collection, g: state.GenerationRecord, source: string, d: Drain): Promise<boolean> {
    const [inSource, inCopy, withVector, skipped] = [await this.count(source), await this.count(g.index), await this.count(g.index, { exists: { field: c.vector } }), await this.countSkipped(g.index)]
    return inCopy + d.absent - d.deleted.length === inSource && inCopy - withVector - skipped <= d.copiesWithoutVector + d.deleted.length
  }

  /** Copies written with no vector (zero_vectors: skip). */
  private countSkipped(index: string): Promise<number> {
    return this.count(index, { term: { [`${RECORD_FIELD}.skipped`]: true } })
  }

  private async staleAfterDrain(c: Collection, g: state.GenerationRecord, docs: SourceDoc[]): Promise<number> {
    const copies = await readCopies(this.http, c, g.index, docs.map((d) => d.id))
    return docs.filter((d) => {
      const st = rowState(d, copies.get(d.id))
      return st !== 'fresh' && st !== 'skipped'
    }).length
  }

  /**
   * Makes a concrete index named like the alias into an alias over a clone of itself (the
   * adopted generation), while its writes are blocked; the planned `adopt` step runs it, never
   * the cutover.
   */
  async adopt(c: Collection): Promise<{ heldMs: number }> {
    const { view, live } = await this.generations(c)
    if (view.kind !== 'concrete' || !live) return { heldMs: 0 }
    const clone = generationIndex(c, live.id)
    if (await this.indexInfo(clone)) {
      // A clone left by an interrupted adoption may miss writes made after it: start over.
      await this.http.request({ method: 'DELETE', path: `/${enc(clone)}` })
    }
    await state.writeHold(this.http, c.target, c.target)
    const holdStart = performance.now()
    await this.blockWrites(c.target)
    let removed = false
    try {
      await this.http.request({ method: 'POST', path: `/${enc(c.target)}/_clone/${enc(clone)}`, query: { wait_for_active_shards: 1 } })
      await this.unblockWrites(clone)
      await this.http.request({ method: 'POST', path: '/_aliases', body: { actions: [{ add: { index: clone, alias: c.target, is_write_index: true } }, { remove_index: { index: c.target } }] } })
      removed = true
    } catch (e) {
      await this.http.request({ method: 'DELETE', path: `/${enc(clone)}`, accept: [404] })
      throw e
    } finally {
      await this.release(c, c.target, removed)
    }
    const heldMs = elapsed(holdStart)
    const rec = await state.readCollection(this.http, c.target)
    rec.generations[String(live.id)] = { ...live, index: clone, wasLive: true, checkpoint: await this.newestUpdate(c, clone) }
    await state.writeCollection(this.http, c.target, rec)
    return { heldMs }
  }

  async dropGeneration(c: Collection, generation: number): Promise<void> {
    const { records, live } = await this.generations(c)
    const g = records.find((r) => r.id === generation)
    if (!g) return
    if (live?.id === g.id) {
      throw failure('E_GENERATION_LIVE', `g${generation} of ${c.name} is live (index ${g.index}) and cannot be dropped`, {
        location: { object: `index ${g.index}` },
        hint: 'cut over to another generation first',
      })
    }
    await this.http.request({ method: 'DELETE', path: `/${enc(g.index)}`, accept: [404] })
    await this.slices.forget(c.target, generation)
    this.spaces.delete(g.index)
    this.dirty.delete(g.index)
    const rec = await state.readCollection(this.http, c.target)
    delete rec.generations[String(generation)]
    await state.writeCollection(this.http, c.target, rec)
  }

  /** The index's space_type; it cannot change after creation, so it is read once. */
  private async spaceOf(c: Collection, index: string): Promise<SpaceType> {
    const known = this.spaces.get(index)
    if (known) return known
    const m = (await this.indexInfo(index))?.properties[c.vector] as Json | undefined
    const space = String(m?.space_type ?? m?.method?.space_type ?? 'l2') as SpaceType
    this.spaces.set(index, space)
    return space
  }

  /**
   * kNN, or hybrid: BM25 multi_match and kNN as two `should` clauses of one bool query, so a
   * document's score is the sum of both. BM25 is unbounded while kNN scores lie in (0, 2],
   * which lets strong lexical matches lead and kNN order the rest, as the existing manager does.
   * Pure kNN scores are converted to the metric's similarity (see similarityFromScore); hybrid
   * scores are the raw sum.
   */
  async sample(c: Collection, n: number, generation?: number): Promise<SampledRow[]> {
    if (generation === undefined) return sampleDocs(this.http, c, this.requireSource(c, (await this.generations(c)).source), n)
    const { g, source } = await this.requireGeneration(c, generation)
    return sampleDocs(this.http, c, this.requireSource(c, source), n, g.index)
  }

  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const { g } = await this.requireGeneration(c, generation)
    await this.refreshOwn(g.index)
    const knn = { knn: { [c.vector]: { vector: Array.from(q.vector), k: q.k } } }
    // lenient: a numeric or date field among the text fields must not fail the whole query on a word.
    const query = q.hybrid && q.text ? { bool: { should: [{ multi_match: { query: q.text, fields: textFields(c.text), lenient: true } }, knn] } } : knn
    const hybrid = query !== knn
    const space = await this.spaceOf(c, g.index)
    const r = await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_search`, body: { size: q.k, query, _source: { excludes: [c.vector, RECORD_FIELD] } } })
    return ((r.body.hits?.hits ?? []) as Json[]).map((h) => ({
      key: String(h._id),
      score: hybrid ? Number(h._score) : similarityFromScore(space, Number(h._score)),
      text: documentText(c.text, (h._source ?? {}) as Json),
    }))
  }

  /**
   * A backfill shared by workers: split into the slices of a sliced point-in-time search over the
   * source, about `rangeRows` documents each (at least 2 to slice at all, at most what the
   * source's index.max_slices_per_pit / max_slices_per_scroll allow), leased through documents
   * in the state index (see slices.ts).
   */
  async planRanges(c: Collection, generation: number, rangeRows: number): Promise<void> {
    const { source } = await this.requireGeneration(c, generation)
    if (await this.slices.planned(c.target, generation)) return
    const info = source ? await this.indexInfo(source) : null
    const limit = Math.min(Number(info?.settings.max_slices_per_pit ?? DEFAULT_MAX_SLICES_PER_PIT), Number(info?.settings.max_slices_per_scroll ?? DEFAULT_MAX_SLICES_PER_PIT))
    const rows = source ? await this.count(source) : 0
    await this.slices.planOnce(c.target, generation, sliceCount(rows, rangeRows, limit))
  }

  async rangesPlanned(c: Collection, generation: number): Promise<boolean> {
    return this.slices.planned(c.target, generation)
  }

  async leaseRange(c: Collection, generation: number, opts: LeaseOptions): Promise<LeaseClaim> {
    return this.slices.claim(c.target, generation, opts)
  }

  async renewLease(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    return this.slices.renew(c.target, generation, range, opts)
  }

  async completeLease(c: Collection, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    return this.slices.complete(c.target, generation, range, opts)
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    return state.readJournal(this.http, c.target)
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    await state.writeJournal(this.http, c.target, j)
  }

  async preflight(c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]> {
    const problems = await preflight(this.http, c, desired)
    if (!desired.generation || problems.some((p) => p.severity === 'error')) return problems
    const { errors, notes } = await this.generationChecks(c, desired.generation)
    return [
      ...problems,
      ...errors.map(
        (e): PreflightProblem => ({
          code: e.code,
          severity: 'error',
          message: e.message,
          object: e.location?.object ?? c.target,
          hint: e.hint ?? '',
          ...(e.location?.path ? { path: e.location.path } : {}),
          ...(e.location?.file ? { file: e.location.file } : {}),
        }),
      ),
      ...notes.map((message): PreflightProblem => ({ code: 'I_GENERATION', severity: 'note', message, object: c.target, hint: '' })),
    ]
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}
