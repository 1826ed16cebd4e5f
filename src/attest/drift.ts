/**
 * Drift as pending work for `plan`: live rows whose vector is stale (text changed since) or
 * missing, read from the freshness record. A plan with "no changes" still owes these rows.
 */
import type { EngineContext, Plan } from '../plan/types.js'

export interface Drift {
  collection: string
  generation: number
  stale: number
  missing: number
  queued: number
}

export async function liveDrift(ctx: EngineContext, plan: Plan): Promise<Drift[]> {
  const out: Drift[] = []
  for (const p of plan.collections) {
    const c = ctx.config.collections[p.collection]
    // A plan that makes or switches to another generation leaves the live one behind anyway.
    if (!c || p.change === 'new-generation' || p.change === 'cutover-retained') continue
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    if (state.live === null) continue
    const f = await adapter.freshness(c, state.live)
    if (f.stale + f.missing > 0) out.push({ collection: c.name, generation: state.live, stale: f.stale, missing: f.missing, queued: f.queued })
  }
  return out
}

export function renderDrift(d: Drift): string {
  return `drift in collection ${d.collection}: live g${d.generation} has ${d.stale} stale and ${d.missing} missing vectors (text changed or rows added since they were embedded); \`embedform sync ${d.collection}\` re-embeds them`
}
