/**
 * Preflight: the adapter's read-only checks, run for every collection by plan (and so by apply,
 * which plans first) before any lock or DDL. Errors stop the command with exit 2 and change
 * nothing; warnings join the plan's warnings.
 */
import { type EmbedformError, EmbedformErrors, inputError } from '../core/errors.js'
import type { Collection, Profile } from '../core/types.js'
import type { GenerationSpec, PreflightDesired, PreflightProblem, StoreAdapter } from '../store/adapter.js'
import type { ChangeKind, EngineContext, Plan } from './types.js'

/** What the change will do to the store, in the terms preflight checks privileges and dependents by. */
export function preflightDesired(change: ChangeKind, profile: Profile, generation?: GenerationSpec): PreflightDesired {
  return {
    dimensions: profile.dimensions,
    storage: profile.index.storage,
    createsObjects: change === 'new-generation' || change === 'index-rebuild' || change === 'cutover-retained',
    cutsOver: change === 'new-generation' || change === 'cutover-retained',
    ...(generation ? { generation } : {}),
  }
}

export interface PreflightOutcome {
  errors: EmbedformError[]
  warnings: string[]
}

export async function runPreflight(adapter: StoreAdapter, c: Collection, change: ChangeKind, profile: Profile, generation?: GenerationSpec): Promise<PreflightOutcome> {
  if (!adapter.preflight) return { errors: [], warnings: [] }
  const problems = await adapter.preflight(c, preflightDesired(change, profile, generation))
  return {
    errors: problems.filter((p) => p.severity === 'error').map((p) => problemError(c, p)),
    warnings: problems.filter((p) => p.severity !== 'error').map((p) => (p.hint ? `${p.message} (${p.hint})` : p.message)),
  }
}

function problemError(c: Collection, p: PreflightProblem): EmbedformError {
  return inputError(p.code, `collection "${c.name}": ${p.message}`, {
    location: { object: p.object, path: p.path ?? `collections.${c.name}`, ...(p.file ? { file: p.file } : {}) },
    hint: p.hint,
  })
}

/** Every problem of every collection at once, so one run shows all there is to fix. */
export function throwPreflightErrors(errors: EmbedformError[]): void {
  if (errors.length === 0) return
  if (errors.length === 1) throw errors[0]
  throw new EmbedformErrors(errors)
}

/**
 * Preflight for a plan made earlier (a resumed apply): each collection is checked for the change
 * the plan makes, with the plan's own profile.
 */
export async function preflightPlan(ctx: EngineContext, plan: Plan): Promise<void> {
  const errors: EmbedformError[] = []
  for (const cp of plan.collections) {
    const c = ctx.config.collections[cp.collection]
    if (!c || cp.steps.length === 0) continue
    errors.push(...(await runPreflight(await ctx.adapterFor(c.store), c, cp.change, cp.profile)).errors)
  }
  throwPreflightErrors(errors)
}
