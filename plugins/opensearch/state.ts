import { hostname } from 'node:os'
import { failure } from '../../src/core/errors.js'
import type { IndexSettings, Profile, VectorStorage } from '../../src/core/types.js'
import type { Journal, LockInfo, Release } from '../../src/store/adapter.js'
import { enc, type Json, type OsHttp } from './http.js'

/** embedform's own small index: generation registry, journal and lock, one doc each per collection. */
export const STATE_INDEX = '.embedform'
const LOCK_TTL_MS = 120_000
const HEARTBEAT_MS = 30_000

export interface GenerationRecord {
  id: number
  index: string
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  storage: VectorStorage
  indexSettings: IndexSettings | null
  profileSnapshot: Profile | null
  createdAt: string
  /** Settings to put back after the bulk load (refresh_interval -1, 0 replicas meanwhile); null values reset to the cluster default. */
  restore: { refresh_interval: string | null; number_of_replicas: string | null } | null
  /**
   * Newest updated-at value (epoch ms, the application's clock) the live index held when this
   * generation's copy was last complete: its change queue is what has updated-at from here on.
   * null: no updated-at field, every catch-up compares everything.
   */
  checkpoint: number | null
  /** Vectors are unit length (decides innerproduct, recorded for search). */
  normalized: boolean
  /** Written with external_gte versions from the updated-at field (catch-up compares them). */
  versioned: boolean
  /** Has been live at least once: retained rather than building when not live. */
  wasLive: boolean
}

export interface CollectionRecord {
  generations: Record<string, GenerationRecord>
}

const docId = (kind: 'generations' | 'journal' | 'lock' | 'hold', collection: string) => `${kind}:${collection}`

export async function ensureStateIndex(http: OsHttp): Promise<void> {
  const head = await http.request({ method: 'HEAD', path: `/${STATE_INDEX}`, accept: [404] })
  if (head.status !== 404) return
  const r = await http.request({
    method: 'PUT',
    path: `/${STATE_INDEX}`,
    body: {
      settings: { index: { number_of_shards: 1, auto_expand_replicas: '0-1', hidden: true } },
      mappings: { dynamic: false, properties: { kind: { type: 'keyword' } } },
    },
    accept: [400],
  })
  // Another process may create it between HEAD and PUT; any other refusal is a real error, and
  // writing state anyway would make a dynamically mapped, visible index of it.
  if (r.status === 400 && r.body?.error?.type !== 'resource_already_exists_exception') {
    throw failure('E_STATE_INDEX', `could not create ${STATE_INDEX}: ${String(r.body?.error?.type)}: ${String(r.body?.error?.reason)}`, {
      location: { object: `index ${STATE_INDEX}` },
      hint: 'the user needs the create_index privilege on .embedform (or create it once with the mapping in plugins/opensearch/state.ts)',
    })
  }
}

async function getDoc<T>(http: OsHttp, id: string): Promise<{ source: T; seqNo: number; primaryTerm: number } | null> {
  const r = await http.request({ method: 'GET', path: `/${STATE_INDEX}/_doc/${enc(id)}`, accept: [404] })
  if (r.status === 404 || !r.body.found) return null
  return { source: r.body._source as T, seqNo: r.body._seq_no as number, primaryTerm: r.body._primary_term as number }
}

async function putDoc(http: OsHttp, id: string, body: Json): Promise<void> {
  await ensureStateIndex(http)
  await http.request({ method: 'PUT', path: `/${STATE_INDEX}/_doc/${enc(id)}`, body, query: { refresh: 'true' } })
}

export async function readCollection(http: OsHttp, collection: string): Promise<CollectionRecord> {
  const d = await getDoc<{ record: CollectionRecord }>(http, docId('generations', collection))
  const rec = d?.source.record ?? { generations: {} }
  // Records written before checkpoints existed kept the backfill start instead.
  for (const g of Object.values(rec.generations)) {
    const old = g as GenerationRecord & { backfillStartedAt?: number | null }
    if (g.checkpoint === undefined) g.checkpoint = old.backfillStartedAt ?? null
  }
  return rec
}

export async function writeCollection(http: OsHttp, collection: string, record: CollectionRecord): Promise<void> {
  await putDoc(http, docId('generations', collection), { kind: 'generations', collection, record })
}

export async function updateGeneration(http: OsHttp, collection: string, id: number, patch: Partial<GenerationRecord>): Promise<GenerationRecord> {
  const rec = await readCollection(http, collection)
  const g = rec.generations[String(id)]
  if (!g) throw failure('E_GENERATION_MISSING', `generation ${id} of collection "${collection}" is not registered`, { location: { object: `${STATE_INDEX} ${docId('generations', collection)}` } })
  const next = { ...g, ...patch }
  rec.generations[String(id)] = next
  await writeCollection(http, collection, rec)
  return next
}

export async function readJournal(http: OsHttp, collection: string): Promise<Journal | null> {
  const d = await getDoc<{ journal: Journal }>(http, docId('journal', collection))
  return d?.source.journal ?? null
}

export async function writeJournal(http: OsHttp, collection: string, j: Journal | null): Promise<void> {
  if (j) {
    await putDoc(http, docId('journal', collection), { kind: 'journal', collection, journal: j })
    return
  }
  await http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${enc(docId('journal', collection))}`, accept: [404] })
}

interface LockDoc extends LockInfo {
  kind: 'lock'
  heartbeat: number
}

export async function readLock(http: OsHttp, collection: string): Promise<LockInfo | null> {
  const d = await getDoc<LockDoc>(http, docId('lock', collection))
  if (!d || Date.now() - d.source.heartbeat > LOCK_TTL_MS) return null
  const { holder, pid, host, since } = d.source
  return { holder, since, ...(pid !== undefined ? { pid } : {}), ...(host !== undefined ? { host } : {}) }
}

/**
 * op_type=create makes the lock doc exclusive across processes and hosts; a heartbeat keeps it
 * fresh, and a holder that stopped heart-beating for the TTL is presumed dead and replaced
 * (conditionally on seq_no, so two waiters never both take it).
 */
export async function acquireLock(http: OsHttp, collection: string, holder: string): Promise<Release> {
  await ensureStateIndex(http)
  const id = docId('lock', collection)
  const path = `/${STATE_INDEX}/_create/${enc(id)}`
  const mine: LockDoc = { kind: 'lock', holder, pid: process.pid, host: hostname(), since: new Date().toISOString(), heartbeat: Date.now() }
  let r = await http.request({ method: 'PUT', path, body: mine, query: { refresh: 'true' }, accept: [409] })
  if (r.status === 409) {
    const current = await getDoc<LockDoc>(http, id)
    if (current && Date.now() - current.source.heartbeat <= LOCK_TTL_MS) {
      const c = current.source
      throw failure('E_LOCK_HELD', `collection "${collection}" is locked by ${c.holder} (pid ${c.pid ?? '?'} on ${c.host ?? '?'}) since ${c.since}`, {
        location: { object: `${STATE_INDEX} ${id}` },
        hint: `wait for it to finish; a lock whose holder stopped is taken over after ${LOCK_TTL_MS / 1000}s without heartbeat`,
      })
    }
    r = await http.request({
      method: 'PUT',
      path: `/${STATE_INDEX}/_doc/${enc(id)}`,
      body: mine,
      query: current ? { if_seq_no: current.seqNo, if_primary_term: current.primaryTerm, refresh: 'true' } : { op_type: 'create', refresh: 'true' },
      accept: [409],
    })
    if (r.status === 409) throw failure('E_LOCK_HELD', `collection "${collection}" lock was taken over by another process just now`, { location: { object: `${STATE_INDEX} ${id}` } })
  }
  let seq = { seqNo: r.body._seq_no as number, primaryTerm: r.body._primary_term as number }
  const beat = setInterval(() => {
    http
      .request({ method: 'PUT', path: `/${STATE_INDEX}/_doc/${enc(id)}`, body: { ...mine, heartbeat: Date.now() }, query: { if_seq_no: seq.seqNo, if_primary_term: seq.primaryTerm }, accept: [409] })
      .then((b) => {
        if (b.status !== 409) seq = { seqNo: b.body._seq_no as number, primaryTerm: b.body._primary_term as number }
      })
      // A missed heartbeat is retried by the next one; only TTL of silence frees the lock.
      .catch(() => undefined)
  }, HEARTBEAT_MS)
  beat.unref()
  return async () => {
    clearInterval(beat)
    await http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${enc(id)}`, query: { if_seq_no: seq.seqNo, if_primary_term: seq.primaryTerm, refresh: 'true' }, accept: [404, 409] })
  }
}

/** A write block embedform put on the index the application writes, recorded before it is set and removed after it is lifted. */
export interface Hold {
  index: string
  since: string
  pid: number
  host: string
}

export async function readHold(http: OsHttp, collection: string): Promise<Hold | null> {
  const d = await getDoc<{ hold: Hold }>(http, docId('hold', collection))
  return d?.source.hold ?? null
}

export async function writeHold(http: OsHttp, collection: string, index: string): Promise<void> {
  await putDoc(http, docId('hold', collection), { kind: 'hold', collection, hold: { index, since: new Date().toISOString(), pid: process.pid, host: hostname() } })
}

export async function clearHold(http: OsHttp, collection: string): Promise<void> {
  await http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${enc(docId('hold', collection))}`, query: { refresh: 'true' }, accept: [404] })
}
