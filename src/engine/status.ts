/** status: what each collection holds and whether it already matches the configuration. Read-only. */
import { fingerprint } from '../core/fingerprint.js'
import { classify, liveFingerprintOf } from '../plan/classify.js'
import { desiredProfile, selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { CollectionStatus, StatusReport } from '../apply/types.js'

export async function status(ctx: EngineContext, collections?: string[]): Promise<StatusReport> {
  const out: CollectionStatus[] = []
  for (const c of selectCollections(ctx, collections)) {
    const profile = desiredProfile(ctx, c)
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    const freshness = new Map(await Promise.all(state.generations.map(async (g) => [g.id, await adapter.freshness(c, g.id)] as const)))
    const cls = classify(c, profile, state, ctx.config)
    const live = cls.live
    out.push({
      collection: c.name,
      store: c.store,
      exists: state.exists,
      rows: state.rows,
      rowsExact: state.rowsExact,
      live: live ? { generation: live.id, profile: live.profile ?? (cls.liveFingerprint ? (c.adoptedProfile ?? null) : null), fingerprint: cls.liveFingerprint } : null,
      desired: { profile: profile.name, fingerprint: fingerprint(profile) },
      matchesConfig: state.exists && (cls.change === 'none' || cls.change === 'runtime-only'),
      change: cls.change,
      generations: [...state.generations]
        .sort((a, b) => b.id - a.id)
        .map((g) => ({
          id: g.id,
          status: g.status,
          physical: g.physical,
          profile: g.profile,
          fingerprint: liveFingerprintOf(g, c, ctx.config),
          model: g.model,
          dimensions: g.dimensions,
          total: state.rows,
          populated: g.populated,
          missing: Math.max(0, state.rows - g.populated - (freshness.get(g.id)!.skipped ?? 0)),
          skipped: freshness.get(g.id)!.skipped ?? 0,
          freshness: freshness.get(g.id)!,
          index: g.index ? { name: g.index.name, method: g.index.method, valid: g.index.valid } : null,
          createdAt: g.createdAt,
        })),
      lock: state.lock,
      journal: state.journal,
      failedItems: state.exists ? ((await adapter.failedItems?.(c)) ?? []) : [],
    })
  }
  return { collections: out }
}
