/**
 * All-zero vectors per generation for `plan`: rows whose text was empty or entirely out of the
 * model's vocabulary. Under cosine no query ever finds them, so the count is shown wherever
 * generations are (status has it as a column), from the store's freshness record.
 */
import type { EngineContext, Plan } from '../plan/types.js'

export interface ZeroVectors {
  collection: string
  generation: number
  status: string
  count: number
}

/** Generations of the planned collections that hold zero vectors; stores that do not count them add nothing. */
export async function zeroVectorCounts(ctx: EngineContext, plan: Plan): Promise<ZeroVectors[]> {
  const out: ZeroVectors[] = []
  for (const p of plan.collections) {
    const c = ctx.config.collections[p.collection]
    if (!c) continue
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    for (const g of state.generations) {
      const count = (await adapter.freshness(c, g.id)).zeroVectors ?? 0
      if (count > 0) out.push({ collection: c.name, generation: g.id, status: g.status, count })
    }
  }
  return out
}

export function renderZeroVectors(z: ZeroVectors): string {
  return `zero vectors in collection ${z.collection}: ${z.status} g${z.generation} has ${z.count} all-zero vectors (empty or out-of-vocabulary text), which no query finds under cosine`
}
