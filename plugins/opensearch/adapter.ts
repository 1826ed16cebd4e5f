import { createHash } from 'node:crypto'
import { failure, inputError } from '../../src/core/errors.js'
import { stableJson } from '../../src/core/fingerprint.js'
import type { Collection } from '../../src/core/types.js'
import type {
  AdapterCapabilities,
  GenerationSpec,
  GenerationState,
  Hit,
  Journal,
  LiveState,
  PendingOptions,
  PendingRow,
  Release,
  SearchQuery,
  StoreAdapter,
  VectorRow,
  VerifyReport,
} from '../../src/store/adapter.js'
import type { PreflightDesired, PreflightProblem } from '../../src/store/adapter.js'
import { bulkWrite, type BulkItem, type BulkOptions } from './bulk.js'
import { enc, type Json, type OsHttp } from './http.js'
import { describeKnn, generationMapping, osIndexSettingsHash, similarityFromScore, type SpaceType } from './mapping.js'
import { scanIndex } from './paging.js'
import { preflight } from './preflight.js'
import * as state from './state.js'
import { documentText, epochMillis, textFields } from './text.js'

export interface OpenSearchAdapterOptions {
  bulk: BulkOptions
  /** Catch-up reads documents updated since backfill start minus this, for clock skew between app hosts and us. */
  catchupMarginMs: number
}

const DEFAULT_OPTIONS: OpenSearchAdapterOptions = { bulk: { attempts: 8, backoffMs: 250 }, catchupMarginMs: 60_000 }
const SAMPLE_DOCS = 5
const SAMPLE_K = 10
const MAX_LISTED_FAILURES = 20

/** What the alias name currently is in the cluster. */
type LiveView = { kind: 'alias'; index: string; indices: string[] } | { kind: 'concrete'; index: string } | { kind: 'none' }

interface IndexInfo {
  properties: Json
  meta: Json | undefined
  settings: Json
}

interface Generations {
  view: LiveView
  /** The index the application reads now: where documents are copied from. */
  source: string | null
  records: state.GenerationRecord[]
  /** The live generation: the source index when it holds vectors (registered or adopted). */
  live: state.GenerationRecord | null
}

const hash = (v: unknown) => createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16)
const tokenOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22)
export const generationIndex = (c: Collection, id: number) => `${c.target}__g${id}`

/**
 * OpenSearch k-NN store: generations are indices `<alias>__gN`, the application reads the
 * alias, and every switch is one atomic `_aliases` request. Registry, journal and lock live in
 * the `.embedform` index so the cluster stays the source of truth.
 */
export class OpenSearchAdapter implements StoreAdapter {
  readonly kind = 'opensearch' as const
  readonly capabilities: AdapterCapabilities = { concurrentIndex: true, hybridSearch: true, inPlaceIndexRebuild: false, maxIndexDimensions: { vector: 16_000, halfvec: 16_000 } }
  private readonly opts: OpenSearchAdapterOptions

  constructor(
    private readonly http: OsHttp,
    opts: Partial<OpenSearchAdapterOptions> = {},
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts }
  }

  private checkTarget(c: Collection): void {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(c.target) || c.target.length > 200) {
      throw inputError('E_OPENSEARCH_NAME', `"${c.target}" is not a valid OpenSearch alias name (lowercase letters, digits, '.', '_', '-'; not starting with '_' or '-')`, {
        location: { path: `collections.${c.name}.target` },
      })
    }
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
    return { properties: body.mappings?.properties ?? {}, meta: body.mappings?._meta, settings: body.settings?.index ?? {} }
  }

  private async count(index: string, query?: Json): Promise<number> {
    const r = await this.http.request({ method: 'POST', path: `/${enc(index)}/_count`, body: query ? { query } : {} })
    return Number(r.body.count)
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
      backfillStartedAt: null,
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

  async inspect(c: Collection): Promise<LiveState> {
    const { view, source, records, live } = await this.generations(c)
    const generations: GenerationState[] = []
    for (const g of records) {
      const info = await this.indexInfo(g.index)
      if (!info) continue
      // A generation being loaded has refresh_interval -1: its documents are invisible to _count until refreshed.
      if (!g.wasLive && g !== live) await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_refresh` })
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

  /** How cutover turns a concrete index named like the alias into an alias, and what rollback remains. */
  async describeAdoption(c: Collection): Promise<string[]> {
    const { view, live } = await this.generations(c)
    if (view.kind !== 'concrete') return []
    const guard = `before that, writes to ${c.target} are blocked and the cutover is refused (nothing changes) if any document changed since the last catch-up${c.updatedAt ? ` (by ${c.updatedAt})` : ' (by document count: without an updated-at field, edits are not detected)'}`
    if (!live) {
      return [
        `${c.target} is a concrete index without vectors; the cutover turns it into an alias without read downtime:`,
        `one _aliases request: add alias ${c.target} -> the new generation (is_write_index) and remove_index ${c.target}; readers switch with no gap`,
        guard,
        `rollback: none to the original index, which is deleted by that request; its documents live on in the new generation`,
      ]
    }
    const clone = generationIndex(c, live.id)
    return [
      `${c.target} is a concrete index, not an alias; the cutover turns it into an alias without read downtime:`,
      `1. block writes on ${c.target} (index.blocks.write=true): application writes get 403 for the few seconds the clone takes; reads continue`,
      `2. _clone ${c.target} -> ${clone} (same documents and vectors, hard-linked segments), then unblock writes on ${clone}`,
      `3. one _aliases request: add alias ${c.target} -> the new generation (is_write_index) and remove_index ${c.target}; readers switch with no gap`,
      guard,
      `rollback: the alias can be pointed at ${clone} (g${live.id}, the clone of the original) until gc drops it; the concrete index ${c.target} itself is deleted in step 3`,
      `if step 3 fails, ${clone} is deleted and ${c.target} is unblocked: nothing changed`,
    ]
  }

  async lock(c: Collection, holder: string): Promise<Release> {
    return state.acquireLock(this.http, c.target, holder)
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
    const liveInfo = source ? await this.indexInfo(source) : null
    const restore = {
      refresh_interval: String(liveInfo?.settings.refresh_interval ?? '1s'),
      number_of_replicas: String(liveInfo?.settings.number_of_replicas ?? '1'),
    }
    if (!existing) {
      this.spaces.delete(index)
      const liveMapping = liveInfo ? { properties: liveInfo.properties, ...(liveInfo.meta ? { _meta: liveInfo.meta } : {}) } : null
      await this.http.request({
        method: 'PUT',
        path: `/${enc(index)}`,
        body: {
          settings: {
            index: {
              knn: true,
              number_of_shards: Number(liveInfo?.settings.number_of_shards ?? 1),
              // Bulk load without refreshes or replica copies; buildIndex puts the live values back.
              refresh_interval: '-1',
              number_of_replicas: 0,
              ...(liveInfo?.settings.analysis ? { analysis: liveInfo.settings.analysis } : {}),
            },
          },
          mappings: generationMapping(c, liveMapping, spec),
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
      backfillStartedAt: null,
      normalized: spec.normalized,
      versioned: c.updatedAt !== undefined,
      wasLive: false,
    }
    await state.writeCollection(this.http, c.target, rec)
  }

  /** Documents of `source` updated since the backfill of `g` started; undefined when that cannot be told. */
  private async changedSince(c: Collection, g: state.GenerationRecord, source: string): Promise<Json | undefined> {
    if (!c.updatedAt || g.backfillStartedAt === null) return undefined
    const type = (await this.indexInfo(source))?.properties[c.updatedAt]?.type
    // Dates take epoch millis only with an explicit format; numeric fields refuse a format.
    const bound = { gte: g.backfillStartedAt - this.opts.catchupMarginMs, ...(type === 'date' || type === 'date_nanos' ? { format: 'epoch_millis' } : {}) }
    return { range: { [c.updatedAt]: bound } }
  }

  /** id → `_version` in `index` for the ids that exist there (mget is real-time: no refresh needed). */
  private async versionsIn(index: string, ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map()
    const r = await this.http.request({ method: 'POST', path: `/${enc(index)}/_mget`, query: { _source: 'false' }, body: { ids } })
    return new Map(((r.body.docs ?? []) as Json[]).filter((d) => d.found).map((d) => [String(d._id), Number(d._version)]))
  }

  async *pending(c: Collection, generation: number, opts: PendingOptions): AsyncIterable<PendingRow[]> {
    let { g, live, source } = await this.requireGeneration(c, generation)
    if (!source || live?.id === g.id) return
    if (opts.phase === 'backfill' && g.backfillStartedAt === null) {
      g = await state.updateGeneration(this.http, c.target, g.id, { backfillStartedAt: Date.now() })
    }
    const query = opts.phase === 'catchup' ? await this.changedSince(c, g, source) : undefined
    for await (const hits of scanIndex(this.http, source, { sortField: c.key, pageSize: opts.batchSize, sourceExcludes: [c.vector], ...(query ? { query } : {}) })) {
      const have = await this.versionsIn(g.index, hits.map((h) => h.id))
      const rows: PendingRow[] = []
      for (const h of hits) {
        const version = c.updatedAt ? epochMillis(h.source[c.updatedAt]) : undefined
        const held = have.get(h.id)
        const newer = g.versioned && version !== undefined && held !== undefined && version > held
        if (held !== undefined && !newer) continue
        const text = documentText(c.text, h.source)
        rows.push({ key: h.id, text, token: tokenOf(text), ...(version !== undefined ? { version } : {}) })
      }
      if (rows.length > 0) yield rows
    }
    if (opts.phase === 'catchup') await this.dropDeleted(c, g, source, opts.batchSize)
  }

  /** The id-set diff: documents gone from the live generation leave the new one too. */
  private async dropDeleted(c: Collection, g: state.GenerationRecord, liveIndex: string, pageSize: number): Promise<void> {
    await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_refresh` })
    for await (const hits of scanIndex(this.http, g.index, { sortField: c.key, pageSize, sourceIncludes: [c.key] })) {
      const inLive = await this.versionsIn(liveIndex, hits.map((h) => h.id))
      const gone: BulkItem[] = hits.filter((h) => !inLive.has(h.id)).map((h) => ({ id: h.id, op: 'delete' }))
      if (gone.length > 0) this.throwFailures(g.index, gone.length, await bulkWrite(this.http, g.index, gone, this.opts.bulk))
    }
  }

  async write(c: Collection, generation: number, rows: VectorRow[]): Promise<void> {
    if (rows.length === 0) return
    const { g, source } = await this.requireGeneration(c, generation)
    if (!source) throw failure('E_NO_SOURCE', `collection ${c.name} has no index ${c.target} to copy documents from`, { location: { object: `alias ${c.target}` } })
    // Copy each document's current source: the new index must serve everything the application reads.
    const r = await this.http.request({
      method: 'POST',
      path: `/${enc(source)}/_mget`,
      query: { _source_excludes: c.vector },
      body: { ids: rows.map((row) => String(row.key)) },
    })
    const sources = new Map(((r.body.docs ?? []) as Json[]).filter((d) => d.found).map((d) => [String(d._id), d._source as Json]))
    const items: BulkItem[] = []
    for (const row of rows) {
      const source = sources.get(String(row.key))
      // Deleted meanwhile: the catch-up's id diff handles it.
      if (!source) continue
      // Text changed since it was read: this vector is stale; the row stays pending for catch-up.
      if (row.token !== undefined && tokenOf(documentText(c.text, source)) !== row.token) continue
      const version = g.versioned && c.updatedAt ? (row.version ?? epochMillis(source[c.updatedAt])) : undefined
      items.push({ id: String(row.key), op: 'index', source: { ...source, [c.vector]: Array.from(row.vector) }, ...(version !== undefined ? { version } : {}) })
    }
    this.throwFailures(g.index, rows.length, await bulkWrite(this.http, g.index, items, this.opts.bulk))
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

  async buildIndex(c: Collection, generation: number, onProgress?: (done: number, total: number) => void): Promise<void> {
    const { g } = await this.requireGeneration(c, generation)
    // The HNSW graphs are built while documents are indexed; what is left is to undo the bulk-load settings.
    if (g.restore) {
      await this.http.request({ method: 'PUT', path: `/${enc(g.index)}/_settings`, body: { index: g.restore } })
    }
    await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_refresh` })
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
    await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_refresh` })
    const info = await this.indexInfo(g.index)
    const knn = info?.properties[c.vector] as Json | undefined
    const total = source ? await this.count(source) : 0
    const docs = await this.count(g.index)
    const populated = await this.count(g.index, { exists: { field: c.vector } })
    const dims = Number(knn?.dimension)
    const wrongDimensions = g.indexSettings && dims !== g.dimensions ? populated : 0
    const sample = await this.sampleNeighbours(c, g.index)
    const problems: string[] = []
    const missing = Math.max(0, total - populated)
    if (missing > 0) problems.push(`${missing} of ${total} documents have no vector in ${g.index}`)
    if (docs !== total) problems.push(`${g.index} holds ${docs} documents, the live index ${source ?? c.target} ${total}`)
    if (wrongDimensions > 0) problems.push(`${g.index} maps ${c.vector} with ${dims} dimensions, the generation has ${g.dimensions}`)
    if (knn?.type !== 'knn_vector') problems.push(`${c.vector} in ${g.index} is not a knn_vector field`)
    if (sample.selfFound < sample.checked) problems.push(`${sample.checked - sample.selfFound} of ${sample.checked} sampled documents did not find themselves among their ${SAMPLE_K} nearest neighbours`)
    return { generation, total, populated, missing, wrongDimensions, indexValid: knn ? knn.type === 'knn_vector' : null, sample, ok: problems.length === 0, problems }
  }

  private async sampleNeighbours(c: Collection, index: string): Promise<VerifyReport['sample']> {
    const r = await this.http.request({
      method: 'POST',
      path: `/${enc(index)}/_search`,
      body: { size: SAMPLE_DOCS, query: { exists: { field: c.vector } }, _source: { includes: [c.vector] } },
    })
    const docs = (r.body.hits?.hits ?? []) as Json[]
    let selfFound = 0
    for (const d of docs) {
      const vector = d._source?.[c.vector] as number[] | undefined
      if (!vector) continue
      const n = await this.http.request({
        method: 'POST',
        path: `/${enc(index)}/_search`,
        body: { size: SAMPLE_K, _source: false, query: { knn: { [c.vector]: { vector, k: SAMPLE_K } } } },
      })
      if (((n.body.hits?.hits ?? []) as Json[]).some((h) => h._id === d._id)) selfFound++
    }
    return { checked: docs.length, selfFound }
  }

  async cutover(c: Collection, generation: number): Promise<void> {
    const { g, view, live } = await this.requireGeneration(c, generation)
    if (live?.id === g.id) return
    const rec = await state.readCollection(this.http, c.target)
    const add = { add: { index: g.index, alias: c.target, is_write_index: true } }
    if (view.kind === 'concrete') {
      if (live) rec.generations[String(live.id)] = await this.adoptConcrete(c, g, live, add)
      else await this.replaceConcrete(c, g, [add, { remove_index: { index: c.target } }])
    } else {
      const remove = view.kind === 'alias' ? view.indices.map((index) => ({ remove: { index, alias: c.target } })) : []
      // Registered before the switch, so an adopted index is never forgotten if the process dies in between.
      if (live) rec.generations[String(live.id)] = { ...live, wasLive: true }
      await state.writeCollection(this.http, c.target, rec)
      await this.http.request({ method: 'POST', path: '/_aliases', body: { actions: [...remove, add] } })
    }
    const next = rec.generations[String(g.id)]
    if (next) rec.generations[String(g.id)] = { ...next, wasLive: true }
    await state.writeCollection(this.http, c.target, rec)
  }

  private setWriteBlock(index: string, on: boolean) {
    return this.http.request({ method: 'PUT', path: `/${enc(index)}/_settings`, body: { index: { blocks: { write: on } } } })
  }

  /**
   * remove_index deletes the concrete index, so a write that reached it after the last catch-up
   * would be lost: block writes, make sure nothing changed, then switch in one request.
   */
  private async replaceConcrete(c: Collection, g: state.GenerationRecord, actions: Json[], prepare?: () => Promise<void>): Promise<void> {
    await this.setWriteBlock(c.target, true)
    try {
      const changed = await this.changedSinceCatchup(c, g)
      if (changed) {
        throw failure('E_CUTOVER_STALE', `${changed}; the cutover of ${c.target} to g${g.id} was not made`, {
          location: { object: `index ${c.target}` },
          hint: 'run apply again: it catches up and retries the cutover',
        })
      }
      await prepare?.()
      await this.http.request({ method: 'POST', path: '/_aliases', body: { actions } })
    } catch (e) {
      await this.setWriteBlock(c.target, false)
      throw e
    }
  }

  /** Why `g` is behind the (write-blocked) concrete index, or null when it is up to date. */
  private async changedSinceCatchup(c: Collection, g: state.GenerationRecord): Promise<string | null> {
    await this.http.request({ method: 'POST', path: `/${enc(c.target)},${enc(g.index)}/_refresh` })
    const [inSource, inGeneration] = [await this.count(c.target), await this.count(g.index)]
    if (inSource !== inGeneration) return `${c.target} holds ${inSource} documents, g${g.id} ${inGeneration}`
    if (!c.updatedAt || !g.versioned || g.backfillStartedAt === null) return null
    const query = await this.changedSince(c, g, c.target)
    for await (const hits of scanIndex(this.http, c.target, { sortField: c.key, pageSize: 1000, sourceIncludes: [c.updatedAt], query })) {
      const have = await this.versionsIn(g.index, hits.map((h) => h.id))
      const stale = hits.find((h) => (epochMillis(h.source[c.updatedAt as string]) ?? 0) > (have.get(h.id) ?? -1))
      if (stale) return `document ${stale.id} changed after the last catch-up`
    }
    return null
  }

  /**
   * A concrete index cannot be renamed, and an alias cannot share its name. Clone it first so
   * rollback keeps a copy, then add the alias and remove the concrete index in one request.
   */
  private async adoptConcrete(c: Collection, g: state.GenerationRecord, live: state.GenerationRecord, add: Json): Promise<state.GenerationRecord> {
    const clone = generationIndex(c, live.id)
    if (await this.indexInfo(clone)) {
      // A clone left by an interrupted cutover may miss writes made after it: start over.
      await this.http.request({ method: 'DELETE', path: `/${enc(clone)}` })
    }
    try {
      await this.replaceConcrete(c, g, [add, { remove_index: { index: c.target } }], async () => {
        await this.http.request({ method: 'POST', path: `/${enc(c.target)}/_clone/${enc(clone)}`, query: { wait_for_active_shards: 1 } })
        await this.setWriteBlock(clone, false)
      })
    } catch (e) {
      await this.http.request({ method: 'DELETE', path: `/${enc(clone)}`, accept: [404] })
      throw e
    }
    return { ...live, index: clone, wasLive: true }
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
    this.spaces.delete(g.index)
    const rec = await state.readCollection(this.http, c.target)
    delete rec.generations[String(generation)]
    await state.writeCollection(this.http, c.target, rec)
  }

  private readonly spaces = new Map<string, SpaceType>()

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
  async search(c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    const { g } = await this.requireGeneration(c, generation)
    const knn = { knn: { [c.vector]: { vector: Array.from(q.vector), k: q.k } } }
    const query = q.hybrid && q.text ? { bool: { should: [{ multi_match: { query: q.text, fields: textFields(c.text) } }, knn] } } : knn
    const hybrid = query !== knn
    const space = await this.spaceOf(c, g.index)
    const r = await this.http.request({ method: 'POST', path: `/${enc(g.index)}/_search`, body: { size: q.k, query, _source: { excludes: [c.vector] } } })
    return ((r.body.hits?.hits ?? []) as Json[]).map((h) => ({
      key: String(h._id),
      score: hybrid ? Number(h._score) : similarityFromScore(space, Number(h._score)),
      text: documentText(c.text, (h._source ?? {}) as Json),
    }))
  }

  async readJournal(c: Collection): Promise<Journal | null> {
    return state.readJournal(this.http, c.target)
  }

  async writeJournal(c: Collection, j: Journal | null): Promise<void> {
    await state.writeJournal(this.http, c.target, j)
  }

  preflight(c: Collection, desired: PreflightDesired): Promise<PreflightProblem[]> {
    return preflight(this.http, c, desired)
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}
