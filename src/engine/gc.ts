/**
 * gc: drop retained generations beyond the newest `keep`. After this, rolling back to them means
 * re-embedding, which is why it is a separate, explicit command, and why a generation that
 * cannot be re-embedded at all (vectors of an unknown model) is dropped only with `force`.
 */
import { inputError } from '../core/errors.js'
import { fingerprint } from '../core/fingerprint.js'
import type { Collection, Config } from '../core/types.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState } from '../store/adapter.js'
import type { GcDrop, GcResult } from '../apply/types.js'

export interface GcOptions {
  keep: number
  dryRun?: boolean
  /** Drop generations that cannot be re-created too. */
  force?: boolean
  /**
   * Drop only these (what the user confirmed after a dry run): a generation retained meanwhile by
   * another run is kept rather than dropped unseen.
   */
  only?: { collection: string; generation: number }[]
  /**
   * Drop only the indexes of retained generations and keep their vectors: a backfill whose writes
   * cannot be heap-only re-enters every index of the table, retained ones included. Rollback
   * rebuilds the index first.
   */
  indexesOnly?: boolean
  /** Stops after the drop in flight; what was dropped so far is in the result. */
  signal?: AbortSignal
}

export interface GcIrreplaceable extends GcDrop {
  /** Why its vectors cannot be made again. */
  reason: string
}

export interface GcOutcome extends GcResult {
  /** Generations beyond `keep` that cannot be re-created: dropped only with force (and listed in dropped then too). */
  irreplaceable: GcIrreplaceable[]
}

/**
 * Why a generation's vectors could not be made again, or null when they can: embedform needs the
 * profile that made them, recorded with the generation (or, for an adopted one, `adopted_profile`).
 */
export function irreplaceableReason(g: GenerationState, c: Collection, config: Config): string | null {
  if (g.profileSnapshot) return null
  const adopted = c.adoptedProfile ? config.profiles[c.adoptedProfile] : undefined
  if (adopted && adopted.dimensions === g.dimensions && (g.fingerprint === null || g.fingerprint === fingerprint(adopted))) return null
  if (g.model === null) {
    return `g${g.id} was adopted with vectors of an unknown model and no profile: once dropped, embedform cannot re-create them (set adopted_profile if a profile makes them)`
  }
  return `g${g.id} (model ${g.model}) has no recorded profile: once dropped, embedform cannot re-create its vectors`
}

/** Throws E_GC_IRREPLACEABLE (exit 2) when the gc would drop vectors that cannot be made again. */
export function refuseIrreplaceable(result: GcOutcome): void {
  if (result.irreplaceable.length === 0) return
  const list = result.irreplaceable.map((g) => `${g.collection} ${g.reason}`).join('; ')
  throw inputError('E_GC_IRREPLACEABLE', `gc would drop vectors embedform cannot re-create: ${list}`, {
    location: { object: result.irreplaceable.map((g) => `${g.collection} ${g.physical}`).join(', ') },
    hint: `keep them with \`embedform gc --keep ${result.keep + result.irreplaceable.length}\`, or drop them anyway with \`embedform gc --keep ${result.keep} --force\``,
  })
}

export async function gc(ctx: EngineContext, collectionName: string | undefined, opts: GcOptions): Promise<GcOutcome> {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) {
    throw inputError('E_GC_KEEP', `keep must be a whole number ≥ 0, got ${opts.keep}`, { hint: '--keep 1 keeps the newest retained generation' })
  }
  const dryRun = opts.dryRun ?? false
  const result: GcOutcome = { dryRun, keep: opts.keep, dropped: [], kept: [], irreplaceable: [] }
  const confirmed = (c: string, g: number) => !opts.only || opts.only.some((o) => o.collection === c && o.generation === g)
  const collections = selectCollections(ctx, collectionName === undefined ? undefined : [collectionName])

  // Read everything first: a refusal must come before the first drop, not after some.
  const work = []
  for (const c of collections) {
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    // A stopped apply may be cutting over to a retained generation: never pull it out from under the journal.
    const protectedId = state.journal?.generation
    const retained = state.generations.filter((g) => g.status === 'retained' && g.id !== protectedId).sort((a, b) => b.id - a.id)
    // Only an index whose settings are recorded can be rebuilt by rollback.
    const drops = opts.indexesOnly
      ? retained.filter((g) => g.index !== null && g.indexSettings !== null && confirmed(c.name, g.id))
      : retained.slice(opts.keep).filter((g) => confirmed(c.name, g.id))
    for (const g of opts.indexesOnly ? [] : drops) {
      const reason = irreplaceableReason(g, c, ctx.config)
      if (reason) result.irreplaceable.push({ collection: c.name, generation: g.id, physical: g.physical, populated: g.populated, reason })
    }
    work.push({ c, adapter, kept: retained.slice(0, opts.keep), drops })
  }
  if (!opts.force && !dryRun) refuseIrreplaceable(result)

  for (const { c, adapter, kept, drops } of work) {
    if (opts.signal?.aborted) break
    if (!opts.indexesOnly) for (const g of kept) result.kept.push({ collection: c.name, generation: g.id })
    const skipped = new Set(opts.force ? [] : result.irreplaceable.filter((i) => i.collection === c.name).map((i) => i.generation))
    const release = dryRun || drops.length === 0 ? undefined : await adapter.lock(c, ctx.holder)
    try {
      // Re-read under the lock: only what is still retained (and not an apply's target) goes.
      const now = release ? await adapter.inspect(c) : undefined
      const stillRetained = (id: number) => !now || (now.journal?.generation !== id && now.generations.some((x) => x.id === id && x.status === 'retained'))
      for (const g of drops) {
        if (opts.signal?.aborted) break
        if (skipped.has(g.id) || !stillRetained(g.id)) continue
        if (!dryRun) await (opts.indexesOnly ? adapter.dropIndex(c, g.id) : adapter.dropGeneration(c, g.id))
        result.dropped.push({ collection: c.name, generation: g.id, physical: g.physical, populated: g.populated, ...(opts.indexesOnly ? { index: g.index?.name ?? '' } : {}) })
      }
    } finally {
      await release?.()
    }
  }
  return result
}
