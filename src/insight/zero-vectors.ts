/**
 * All-zero vectors and skipped rows per generation for `plan`: rows whose text was empty or
 * entirely out of the model's vocabulary. Under cosine no query ever finds a zero vector, so the
 * count is shown wherever generations are (status has it as a column), from the store's
 * freshness record, with the profile setting that stores no vector for them instead
 * (`zero_vectors: skip`); generations made with that setting show how many rows they skipped.
 */
import type { ZeroVectorPolicy } from '../core/types.js'
import { zeroVectorPolicy } from '../core/zero-vectors.js'
import type { EngineContext, Plan } from '../plan/types.js'

export interface ZeroVectors {
  collection: string
  generation: number
  status: string
  /** Profile the generation was made with (null: adopted). */
  profile: string | null
  /** The generation's zero_vectors setting. */
  zeroVectors: ZeroVectorPolicy
  /** All-zero vectors stored. */
  count: number
  /** Rows stored with no vector (zero_vectors: skip). */
  skipped: number
}

/** Generations of the planned collections that hold zero vectors or skipped rows; stores that do not count them add nothing. */
export async function zeroVectorCounts(ctx: EngineContext, plan: Plan): Promise<ZeroVectors[]> {
  const out: ZeroVectors[] = []
  for (const p of plan.collections) {
    const c = ctx.config.collections[p.collection]
    if (!c) continue
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    for (const g of state.generations) {
      const f = await adapter.freshness(c, g.id)
      const count = f.zeroVectors ?? 0
      const skipped = f.skipped ?? 0
      if (count > 0 || skipped > 0) out.push({ collection: c.name, generation: g.id, status: g.status, profile: g.profile, zeroVectors: zeroVectorPolicy(g.profileSnapshot), count, skipped })
    }
  }
  return out
}

export function renderZeroVectors(z: ZeroVectors): string {
  const lines: string[] = []
  if (z.count > 0) {
    const hint = z.zeroVectors === 'keep' ? `; \`zero_vectors: skip\` in ${z.profile ? `profile ${z.profile}` : 'the profile'} stores no vector for them instead (a new generation)` : ''
    lines.push(`zero vectors in collection ${z.collection}: ${z.status} g${z.generation} has ${z.count} all-zero vectors (empty or out-of-vocabulary text), which no query finds under cosine${hint}`)
  }
  if (z.skipped > 0) {
    lines.push(`skipped rows in collection ${z.collection}: ${z.status} g${z.generation} stores no vector for ${z.skipped} rows (zero_vectors: skip: empty or out-of-vocabulary text); they are embedded again when their text changes`)
  }
  return lines.join('\n')
}
