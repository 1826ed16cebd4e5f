/**
 * Slice leases for a backfill shared by several worker processes, on one machine or many,
 * coordinated by the cluster alone (documents in the `.embedform` state index):
 *
 * - the backfill is split once per generation into `max` slices of a sliced point-in-time search
 *   (`slice: {id, max}`). OpenSearch slices by a hash of `_id`, so a document falls in the same
 *   slice whichever point-in-time reads it: each worker opens its own, and a worker that takes a
 *   slice over later reads the same documents (plus those inserted since, which catch-up reads
 *   anyway);
 * - the plan is one document created with op_type=create, so two planners agree on one `max`;
 *   each slice is one document, claimed, renewed and completed by a write conditional on the
 *   `_seq_no` / `_primary_term` last read (409 version_conflict_engine_exception: someone else
 *   wrote it first, so two workers never hold one slice);
 * - a lease expires when its document has not changed for the holder's ttl, measured on the
 *   clock of the worker that watches it, so the clocks of different machines never need to
 *   agree. A dead worker's slice is then taken over and scanned again: documents that already
 *   have a vector are skipped, and writing one twice is harmless (the token guard stores a
 *   vector only for the text it was made from).
 */
import type { KeyRange, LeaseClaim, LeaseOptions } from '../../src/store/adapter.js'
import { enc, type Json, type OsHttp } from './http.js'
import { ensureStateIndex, STATE_INDEX } from './state.js'

/** OpenSearch's default for `index.max_slices_per_pit`. */
export const DEFAULT_MAX_SLICES_PER_PIT = 1024

interface PlanDoc {
  kind: 'slices'
  collection: string
  generation: number
  max: number
  plannedAt: string
}

interface SliceDoc {
  kind: 'slice'
  collection: string
  generation: number
  slice: number
  holder: string
  /** The holder's ttl: how long the document may stay unchanged before its slice is free. */
  ttlMs: number
  done: boolean
  at: string
}

interface Versioned<T> {
  source: T
  seqNo: number
  primaryTerm: number
}

const planId = (collection: string, generation: number) => `slices:${collection}:g${generation}`
const sliceId = (collection: string, generation: number, slice: number) => `slice:${collection}:g${generation}:${slice}`

/** The unit of work a worker leases: one slice, or everything when the plan has a single unit (slicing needs max ≥ 2). */
export function sliceRange(slice: number, max: number): KeyRange {
  return { id: slice, lo: null, hi: null, ...(max >= 2 ? { slice: { id: slice, max } } : {}) }
}

/** How many slices a backfill of `rows` documents gets: about `rangeRows` each, within what a point-in-time allows. */
export function sliceCount(rows: number, rangeRows: number, maxSlicesPerPit: number): number {
  return Math.max(1, Math.min(Math.ceil(rows / Math.max(1, rangeRows)), maxSlicesPerPit))
}

export class SliceLeases {
  /** Per slice document: the version last seen and when (this process's clock); unchanged for the ttl = expired. */
  private readonly seen = new Map<string, { seqNo: number; primaryTerm: number; since: number }>()
  /** Slices this process holds: the version of its own last write, the condition of the next. */
  private readonly held = new Map<string, { seqNo: number; primaryTerm: number }>()
  /** Renewals run on a timer: one write per slice document at a time, so a renewal never races the completion. */
  private readonly queue = new Map<string, Promise<unknown>>()

  constructor(private readonly http: OsHttp) {}

  async planned(collection: string, generation: number): Promise<boolean> {
    return (await this.plan(collection, generation)) !== null
  }

  /** Records the plan once; a second planner finds it and keeps its `max`. */
  async planOnce(collection: string, generation: number, max: number): Promise<void> {
    await ensureStateIndex(this.http)
    const doc: PlanDoc = { kind: 'slices', collection, generation, max, plannedAt: new Date().toISOString() }
    await this.http.request({ method: 'PUT', path: `/${STATE_INDEX}/_create/${enc(planId(collection, generation))}`, body: doc, accept: [409] })
  }

  async claim(collection: string, generation: number, opts: LeaseOptions): Promise<LeaseClaim> {
    const plan = await this.plan(collection, generation)
    if (!plan) return { done: true }
    const ids = Array.from({ length: plan.max }, (_, i) => sliceId(collection, generation, i))
    const docs = await this.readSlices(ids)
    let open = 0
    let waitMs = Number.POSITIVE_INFINITY
    for (let i = 0; i < plan.max; i++) {
      const id = ids[i] as string
      const d = docs.get(id)
      if (d?.source.done) continue
      open++
      if (this.held.has(id)) continue
      const left = d ? this.expiresIn(id, d) : 0
      if (left > 0) {
        waitMs = Math.min(waitMs, left)
        continue
      }
      // A slice nobody claimed yet has no document: the first claim creates it.
      const mine = await this.write(id, this.doc(collection, generation, i, opts), d ?? null)
      if (mine) {
        this.held.set(id, mine)
        return { range: sliceRange(i, plan.max) }
      }
    }
    return open === 0 ? { done: true } : { waitMs: Number.isFinite(waitMs) ? waitMs : 0 }
  }

  async renew(collection: string, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    const id = sliceId(collection, generation, range.id)
    return this.serial(id, async () => {
      const mine = this.held.get(id)
      const next = mine ? await this.write(id, this.doc(collection, generation, range.id, opts), mine) : null
      if (next) this.held.set(id, next)
      else this.held.delete(id)
      return next !== null
    })
  }

  async complete(collection: string, generation: number, range: KeyRange, opts: LeaseOptions): Promise<boolean> {
    const id = sliceId(collection, generation, range.id)
    const done = await this.serial(id, async () => {
      const mine = this.held.get(id)
      this.held.delete(id)
      return mine ? (await this.write(id, { ...this.doc(collection, generation, range.id, opts), done: true }, mine)) !== null : false
    })
    return done
  }

  /** A dropped generation's plan must not survive into a new generation with the same id. */
  async forget(collection: string, generation: number): Promise<void> {
    const plan = await this.plan(collection, generation)
    if (!plan) return
    for (let i = 0; i < plan.max; i++) {
      await this.http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${enc(sliceId(collection, generation, i))}`, accept: [404] })
    }
    await this.http.request({ method: 'DELETE', path: `/${STATE_INDEX}/_doc/${enc(planId(collection, generation))}`, accept: [404] })
  }

  private doc(collection: string, generation: number, slice: number, opts: LeaseOptions): SliceDoc {
    return { kind: 'slice', collection, generation, slice, holder: opts.holder, ttlMs: Math.trunc(opts.ttlMs), done: false, at: new Date().toISOString() }
  }

  private async plan(collection: string, generation: number): Promise<PlanDoc | null> {
    const r = await this.http.request({ method: 'GET', path: `/${STATE_INDEX}/_doc/${enc(planId(collection, generation))}`, accept: [404] })
    return r.status === 200 && r.body.found ? (r.body._source as PlanDoc) : null
  }

  private async readSlices(ids: string[]): Promise<Map<string, Versioned<SliceDoc>>> {
    const r = await this.http.request({ method: 'POST', path: `/${STATE_INDEX}/_mget`, body: { ids } })
    const out = new Map<string, Versioned<SliceDoc>>()
    for (const d of (r.body.docs ?? []) as Json[]) {
      if (d.found) out.set(String(d._id), { source: d._source as SliceDoc, seqNo: Number(d._seq_no), primaryTerm: Number(d._primary_term) })
    }
    return out
  }

  /** Milliseconds until the holder's lease runs out, as this process has watched the document: 0 = expired. */
  private expiresIn(id: string, d: Versioned<SliceDoc>): number {
    const ttl = d.source.ttlMs
    const now = performance.now()
    const last = this.seen.get(id)
    if (!last || last.seqNo !== d.seqNo || last.primaryTerm !== d.primaryTerm) {
      this.seen.set(id, { seqNo: d.seqNo, primaryTerm: d.primaryTerm, since: now })
      return ttl
    }
    return Math.max(0, ttl - (now - last.since))
  }

  /**
   * Writes the slice document only if it is still the version `expected` (null: it must not
   * exist yet): its new version, or null when another worker wrote it first.
   */
  private async write(id: string, doc: SliceDoc, expected: { seqNo: number; primaryTerm: number } | null): Promise<{ seqNo: number; primaryTerm: number } | null> {
    const query: Record<string, string | number> = expected ? { if_seq_no: expected.seqNo, if_primary_term: expected.primaryTerm } : { op_type: 'create' }
    const r = await this.http.request({ method: 'PUT', path: `/${STATE_INDEX}/_doc/${enc(id)}`, body: doc, query, accept: [409] })
    return r.status === 409 ? null : { seqNo: Number(r.body._seq_no), primaryTerm: Number(r.body._primary_term) }
  }

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.queue.get(id) ?? Promise.resolve()).then(fn, fn)
    this.queue.set(id, next.catch(() => undefined))
    return next
  }
}
