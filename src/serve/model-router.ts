/**
 * `model` in a request → the model that must encode it. A collection name means "its live
 * generation" and follows cutovers (the LiveFollower moves the pointer); a profile name means that
 * profile, loaded on first use and kept. Collections win when a name is both.
 */
import type { Config } from '../core/types.js'
import type { GenerationState } from '../store/adapter.js'
import { ApiError } from './api-error.js'
import type { GenerationRef } from './events.js'
import type { Lease, ModelPool } from './model-pool.js'
import type { ModelSlot } from './model-slot.js'

export type CollectionModel =
  | { kind: 'ready'; generation: GenerationState; fingerprint: string; lease: Lease }
  | { kind: 'unavailable'; reason: string }

/** The model one request uses, held until release() (a switch meanwhile does not pull it away). */
export interface Route {
  slot: ModelSlot
  /** The generation's recorded fingerprint, or the profile's. */
  fingerprint: string
  collection?: string
  generation?: GenerationState
  release(): void
}

/** A route onto a collection's generation. */
export type CollectionRoute = Route & { collection: string; generation: GenerationState }

export function generationRef(m: CollectionModel): GenerationRef | null {
  return m.kind === 'ready' ? { generation: m.generation.id, fingerprint: m.fingerprint, profile: m.lease.slot.profile.name } : null
}

export class ModelRouter {
  private readonly collections = new Map<string, CollectionModel>()
  private readonly profiles = new Map<string, Promise<Lease>>()

  constructor(
    private readonly config: Config,
    private readonly pool: ModelPool,
    /** Seconds a client should wait when a collection has no usable generation yet (one poll). */
    private readonly retryAfter: number,
  ) {}

  current(collection: string): CollectionModel | undefined {
    return this.collections.get(collection)
  }

  /** Points `collection` at a new live generation; requests still holding the old model finish on it. */
  setLive(collection: string, generation: GenerationState, fingerprint: string, lease: Lease): void {
    const previous = this.collections.get(collection)
    this.collections.set(collection, { kind: 'ready', generation, fingerprint, lease })
    if (previous?.kind === 'ready') previous.lease.release()
  }

  /** The generation record changed but not the model (e.g. counts, index state). */
  refresh(collection: string, generation: GenerationState): void {
    const cur = this.collections.get(collection)
    if (cur?.kind === 'ready') cur.generation = generation
  }

  setUnavailable(collection: string, reason: string): void {
    const previous = this.collections.get(collection)
    this.collections.set(collection, { kind: 'unavailable', reason })
    if (previous?.kind === 'ready') previous.lease.release()
  }

  /** Names a request may use as `model`. */
  names(): { collections: string[]; profiles: string[] } {
    return { collections: Object.keys(this.config.collections), profiles: Object.keys(this.config.profiles).filter((p) => !this.config.collections[p]) }
  }

  /** The live generation of a configured collection. */
  acquireCollection(collection: string, param: string | null = 'model'): CollectionRoute {
    const m = this.collections.get(collection)
    if (!m || m.kind === 'unavailable') {
      throw new ApiError(503, 'server_error', m?.reason ?? `collection "${collection}" is still loading`, param, 'model_not_ready', this.retryAfter)
    }
    const slot = m.lease.slot
    return { slot, fingerprint: m.fingerprint, collection, generation: m.generation, release: slot.retain() }
  }

  async acquire(model: string, param: string | null = 'model'): Promise<Route> {
    if (this.config.collections[model]) return this.acquireCollection(model, param)
    const profile = this.config.profiles[model]
    if (!profile) {
      const { collections, profiles } = this.names()
      throw new ApiError(
        404,
        'invalid_request_error',
        `The model \`${model}\` does not exist: use a collection (${collections.join(', ') || 'none'}) for its live generation, or a profile (${profiles.join(', ') || 'none'})`,
        param,
        'model_not_found',
      )
    }
    let pinned = this.profiles.get(model)
    if (!pinned) {
      pinned = this.pool.lease(profile)
      this.profiles.set(model, pinned)
      // A failed load is not remembered: the next request tries again.
      pinned.catch(() => this.profiles.delete(model))
    }
    const slot = (await pinned).slot
    return { slot, fingerprint: slot.fingerprint, release: slot.retain() }
  }

  /** Gives back every pinned model; they close once their last request finishes. */
  async close(): Promise<void> {
    for (const [name, m] of this.collections) {
      if (m.kind === 'ready') m.lease.release()
      this.collections.delete(name)
    }
    const pins = [...this.profiles.values()]
    this.profiles.clear()
    for (const r of await Promise.allSettled(pins)) if (r.status === 'fulfilled') r.value.release()
    await this.pool.drained()
  }
}
