/**
 * Loaded models, shared by every name that resolves to the same profile settings (a collection's
 * live generation and the profile it was made with are one model, loaded once). A model is loaded
 * on first lease and closed when its last lease is released.
 */
import type { Profile } from '../core/types.js'
import { ModelSlot, type SlotDeps, slotKey } from './model-slot.js'

export interface Lease {
  slot: ModelSlot
  release(): void
}

export class ModelPool {
  private readonly slots = new Map<string, ModelSlot>()
  private readonly opening = new Map<string, Promise<ModelSlot>>()
  private readonly closing = new Set<Promise<void>>()

  constructor(private readonly deps: SlotDeps) {}

  /** Every model loaded right now. */
  get loaded(): ModelSlot[] {
    return [...this.slots.values()]
  }

  async lease(profile: Profile): Promise<Lease> {
    const key = slotKey(profile)
    for (;;) {
      const slot = this.slots.get(key) ?? (await this.open(key, profile))
      // The slot may have lost its last lease (and closed) while this caller awaited the load.
      if (this.slots.get(key) === slot) return { slot, release: slot.retain() }
    }
  }

  private open(key: string, profile: Profile): Promise<ModelSlot> {
    const pending = this.opening.get(key)
    if (pending) return pending
    const opening = ModelSlot.open(profile, this.deps).then((slot) => {
      slot.onUnused = () => {
        this.slots.delete(key)
        const closed = slot.close().finally(() => this.closing.delete(closed))
        this.closing.add(closed)
      }
      this.slots.set(key, slot)
      return slot
    })
    this.opening.set(key, opening)
    void opening.then(
      () => this.opening.delete(key),
      () => this.opening.delete(key),
    )
    return opening
  }

  /** Waits for models whose last lease is gone to finish their work and close. */
  async drained(): Promise<void> {
    while (this.closing.size > 0) await Promise.allSettled([...this.closing])
  }
}
