/**
 * A saved plan is a file anyone can edit, so `apply plan.json` trusts none of it: the plan is
 * made again from the configuration and the live state, and every step, profile, fingerprint and
 * target must match. Fingerprints are recomputed from the profile written in the plan, so an
 * edited model or prefix cannot pass as the planned one.
 */
import { EmbedformErrors, inputError, type EmbedformError } from '../core/errors.js'
import { fingerprint, stableJson } from '../core/fingerprint.js'
import type { Profile } from '../core/types.js'
import { makePlan } from './make.js'
import { preflightPlan } from './preflight.js'
import type { CollectionPlan, EngineContext, GenerationRef, Plan, PlanStep } from './types.js'

/** What makes two steps the same step: estimates and wording may move with the data, these may not. */
function stepShape(s: PlanStep): string {
  return stableJson({ id: s.id, kind: s.kind, collection: s.collection, generation: s.generation, touches: s.touches, reversible: s.reversible, affectsReaders: s.affectsReaders })
}

/** The profile's meaning; where it was loaded from is not part of it. */
function profileShape(p: Profile): string {
  const { file: _file, ...rest } = p
  return stableJson(rest)
}

function refShape(r: GenerationRef | null): string {
  return r === null ? 'null' : stableJson({ generation: r.generation, profile: r.profile, fingerprint: r.fingerprint, dimensions: r.dimensions, model: r.model })
}

function refLabel(r: GenerationRef | null): string {
  return r === null ? 'no live generation' : `g${r.generation} (${r.profile ?? 'unknown profile'}, fingerprint ${r.fingerprint?.slice(0, 8) ?? '-'})`
}

/** The ways a saved collection plan differs from the one made now, one line each; [] when none. */
export function planDifferences(saved: CollectionPlan, now: CollectionPlan): string[] {
  const out: string[] = []
  const recomputed = fingerprint(saved.profile)
  if (recomputed !== saved.to.fingerprint) {
    out.push(`its profile has fingerprint ${recomputed.slice(0, 8)}…, but the plan claims ${saved.to.fingerprint?.slice(0, 8) ?? '-'}…`)
  }
  if (profileShape(saved.profile) !== profileShape(now.profile)) out.push(`its profile "${saved.profile.name}" is not what the configuration says for profile "${now.profile.name}"`)
  if (saved.change !== now.change) out.push(`it plans "${saved.change}", the live state needs "${now.change}"`)
  if (refShape(saved.to) !== refShape(now.to)) out.push(`its target is ${refLabel(saved.to)}, the live state needs ${refLabel(now.to)}`)
  if (refShape(saved.from) !== refShape(now.from)) out.push(`it starts from ${refLabel(saved.from)}, the live generation is ${refLabel(now.from)}`)
  const savedSteps = saved.steps.map(stepShape)
  const nowSteps = now.steps.map(stepShape)
  if (savedSteps.join('\n') !== nowSteps.join('\n')) {
    const missing = now.steps.filter((s) => !savedSteps.includes(stepShape(s))).map((s) => s.id)
    const extra = saved.steps.filter((s) => !nowSteps.includes(stepShape(s))).map((s) => s.id)
    const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not expected ${extra.join(', ')}` : ''].filter(Boolean)
    out.push(`its steps differ from the ones the live state needs${parts.length ? ` (${parts.join('; ')})` : ' (order)'}`)
  }
  return out
}

function mismatch(file: string, collection: string, what: string): EmbedformError {
  return inputError('E_PLAN_MISMATCH', `plan file ${file}, collection "${collection}": ${what}`, {
    location: { file, path: `collections.${collection}` },
    hint: 'make a new plan with `embedform plan -o FILE` and apply that; plan files are not meant to be edited',
  })
}

/**
 * Refuses a saved plan that is not exactly what `embedform plan` would make now. A plan whose
 * apply is already in flight in the store (the journal names it) is checked against the
 * configuration and the journal instead: its own earlier steps changed the live state.
 */
export async function verifySavedPlan(ctx: EngineContext, plan: Plan, file: string): Promise<void> {
  const errors: EmbedformError[] = []
  const fresh: string[] = []
  const resumed: CollectionPlan[] = []
  for (const saved of plan.collections) {
    const c = ctx.config.collections[saved.collection]
    if (!c) {
      errors.push(mismatch(file, saved.collection, 'the configuration does not declare this collection'))
      continue
    }
    const journal = await (await ctx.adapterFor(c.store)).readJournal(c)
    if (journal?.planId !== plan.id) {
      fresh.push(saved.collection)
      continue
    }
    resumed.push(saved)
    const recomputed = fingerprint(saved.profile)
    if (recomputed !== saved.to.fingerprint) errors.push(mismatch(file, saved.collection, `its profile has fingerprint ${recomputed.slice(0, 8)}…, but the plan claims ${saved.to.fingerprint?.slice(0, 8) ?? '-'}…`))
    const desired = ctx.config.profiles[c.profile]
    if (!desired || profileShape(desired) !== profileShape(saved.profile)) errors.push(mismatch(file, saved.collection, `its profile "${saved.profile.name}" is not what the configuration says for profile "${c.profile}"`))
    if (journal.generation !== saved.to.generation) errors.push(mismatch(file, saved.collection, `its target is g${saved.to.generation}, the apply in flight builds g${journal.generation}`))
    const ids = saved.steps.map((s) => s.id)
    const unknown = journal.done.filter((id) => !ids.includes(id))
    if (unknown.length > 0) errors.push(mismatch(file, saved.collection, `the apply in flight already ran step(s) the plan does not have: ${unknown.join(', ')}`))
  }
  if (fresh.length > 0) {
    const now = await makePlan(ctx, { collections: fresh, measure: false })
    for (const cp of now.collections) {
      const saved = plan.collections.find((s) => s.collection === cp.collection)!
      errors.push(...planDifferences(saved, cp).map((d) => mismatch(file, cp.collection, d)))
    }
  }
  if (resumed.length > 0) await preflightPlan(ctx, { ...plan, collections: resumed })
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new EmbedformErrors(errors)
}
