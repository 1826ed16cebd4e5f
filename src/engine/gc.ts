/**
 * gc: drop retained generations beyond the newest `keep`. After this, rolling back to them means
 * re-embedding, which is why it is a separate, explicit command.
 */
import { inputError } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { GcDrop, GcResult } from '../apply/types.js'

export async function gc(ctx: EngineContext, collectionName: string | undefined, opts: { keep: number; dryRun?: boolean }): Promise<GcResult> {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) {
    throw inputError('E_GC_KEEP', `keep must be a whole number ≥ 0, got ${opts.keep}`, { hint: '--keep 1 keeps the newest retained generation' })
  }
  const dryRun = opts.dryRun ?? false
  const result: GcResult = { dryRun, keep: opts.keep, dropped: [], kept: [] }
  for (const c of selectCollections(ctx, collectionName === undefined ? undefined : [collectionName])) {
    const adapter = await ctx.adapterFor(c.store)
    const release = dryRun ? undefined : await adapter.lock(c, ctx.holder)
    try {
      const state = await adapter.inspect(c)
      // A stopped apply may be cutting over to a retained generation: never pull it out from under the journal.
      const protectedId = state.journal?.generation
      const retained = state.generations.filter((g) => g.status === 'retained' && g.id !== protectedId).sort((a, b) => b.id - a.id)
      for (const g of retained.slice(0, opts.keep)) result.kept.push({ collection: c.name, generation: g.id })
      for (const g of retained.slice(opts.keep)) {
        const drop: GcDrop = { collection: c.name, generation: g.id, physical: g.physical, populated: g.populated }
        if (!dryRun) await adapter.dropGeneration(c, g.id)
        result.dropped.push(drop)
      }
    } finally {
      await release?.()
    }
  }
  return result
}
