import { pickCollection } from '../cli/engine-context.js'
import type { Collection } from '../core/types.js'
import type { EngineContext } from '../plan/types.js'
import type { LiveState, StoreAdapter } from '../store/adapter.js'

export interface Target {
  collection: Collection
  adapter: StoreAdapter
  /** What the store holds now: generations are read from it, never from local files. */
  state: LiveState
}

/** The collection a search/eval acts on (`--collection`, or the only one), its adapter and live state. */
export async function openTarget(ctx: EngineContext, collectionName: string | undefined): Promise<Target> {
  // pickCollection only returns names declared in this config.
  const collection = ctx.config.collections[pickCollection(ctx.config, collectionName)] as Collection
  const adapter = await ctx.adapterFor(collection.store)
  return { collection, adapter, state: await adapter.inspect(collection) }
}
