/**
 * makePlan: desired state (config) ⟷ live state (adapter.inspect) → Plan. Reads the store, never
 * changes it; only plan --measure opens an encoder.
 */
import { randomUUID } from 'node:crypto'
import { inputError } from '../core/errors.js'
import type { EmbedformError } from '../core/errors.js'
import { fingerprint } from '../core/fingerprint.js'
import type { Collection, Profile } from '../core/types.js'
import type { GenerationSpec, LiveState, StoreAdapter } from '../store/adapter.js'
import { classify } from './classify.js'
import { measurePipeline, measureThroughput } from './measure.js'
import { runPreflight, throwPreflightErrors } from './preflight.js'
import { buildSteps, type Throughput } from './steps.js'
import { PLAN_FORMAT_VERSION, type CollectionPlan, type EngineContext, type GenerationRef, type Plan } from './types.js'

export function selectCollections(ctx: EngineContext, names: string[] | undefined): Collection[] {
  const all = ctx.config.collections
  if (!names || names.length === 0) return Object.values(all)
  return names.map((name) => {
    const c = all[name]
    if (!c) {
      throw inputError('E_UNKNOWN_COLLECTION', `collection "${name}" is not declared in the configuration`, {
        location: { file: ctx.config.file, path: `collections.${name}` },
        hint: `declared collections: ${Object.keys(all).join(', ') || '(none)'}`,
      })
    }
    return c
  })
}

export function desiredProfile(ctx: EngineContext, c: Collection): Profile {
  const p = ctx.config.profiles[c.profile]
  if (!p) {
    throw inputError('E_UNKNOWN_PROFILE', `collection "${c.name}" uses profile "${c.profile}", which is not defined`, {
      location: { file: ctx.config.file, path: `collections.${c.name}.profile` },
      hint: `profiles: ${Object.keys(ctx.config.profiles).join(', ') || '(none)'}`,
    })
  }
  return p
}

export function requireExisting(c: Collection, state: LiveState): void {
  if (!state.exists) {
    throw inputError('E_COLLECTION_MISSING', `collection "${c.name}" points at ${c.target}, which does not exist in store "${c.store}"`, {
      location: { object: c.target, path: `collections.${c.name}.target` },
      hint: 'create the table/index first, or fix `target` in embedding.config.yaml',
    })
  }
}

function plannedSpec(id: number, fp: string, p: Profile): GenerationSpec {
  return { id, profile: p.name, fingerprint: fp, model: p.model.source, dimensions: p.dimensions, storage: p.index.storage, index: p.index, normalized: p.normalize, profileSnapshot: p }
}

/** Whether the plan writes vectors at all (a cutover to an up-to-date retained generation does not). */
function encodesRows(steps: { kind: string; estimate: { rows?: number } }[]): boolean {
  return steps.some((s) => (s.kind === 'backfill' || s.kind === 'catch-up') && (s.estimate.rows ?? 0) > 0)
}

function refOf(g: { id: number; profile: string | null; fingerprint: string | null; dimensions: number; model: string | null }, fp: string | null): GenerationRef {
  return { generation: g.id, profile: g.profile, fingerprint: fp, dimensions: g.dimensions, model: g.model }
}

/** A plan made while another apply is stopped or running would be refused; say so up front. */
function inFlightWarnings(state: LiveState): string[] {
  const out: string[] = []
  if (state.journal) {
    out.push(`apply of plan ${state.journal.planId} is in progress (g${state.journal.generation}, at ${state.journal.current ?? 'between steps'}): apply that plan to resume it, or rollback to abandon it, before applying this one`)
  }
  if (state.lock) out.push(`migration lock held by ${state.lock.holder} since ${state.lock.since}`)
  return out
}

export async function makePlan(ctx: EngineContext, opts: { collections?: string[]; measure?: boolean } = {}): Promise<Plan> {
  const collections = selectCollections(ctx, opts.collections)
  const measured = new Map<string, Throughput>()
  const throughputFor = async (p: Profile, adapter: StoreAdapter, c: Collection): Promise<Throughput | undefined> => {
    if (opts.measure) {
      // The pipeline depends on the table (its indexes, its texts); the encoder alone only on the profile.
      const pipeline = await measurePipeline(ctx.openEncoder, adapter, c, p, ctx.encoderOptions)
      if (pipeline) return pipeline
      const key = fingerprint(p) + p.device + p.batchSize + (p.threads ?? '')
      let t = measured.get(key)
      if (!t) {
        t = { textsPerSecond: await measureThroughput(ctx.openEncoder, p, ctx.encoderOptions), source: 'measured' }
        measured.set(key, t)
      }
      return t
    }
    return p.throughput ? { textsPerSecond: p.throughput, source: 'declared' } : undefined
  }

  // Every collection is read and preflighted before anything is measured, so one run reports
  // every problem and a refused plan costs no encoder time.
  const checked = []
  const problems: EmbedformError[] = []
  for (const c of collections) {
    const profile = desiredProfile(ctx, c)
    const adapter = await ctx.adapterFor(c.store)
    const state = await adapter.inspect(c)
    requireExisting(c, state)
    const cls = classify(c, profile, state, ctx.config, { inPlaceIndexRebuild: adapter.capabilities.inPlaceIndexRebuild })
    const creates = cls.change === 'new-generation' ? plannedSpec(cls.nextId, fingerprint(profile), profile) : undefined
    const preflight = await runPreflight(adapter, c, cls.change, profile, creates)
    problems.push(...preflight.errors)
    checked.push({ c, profile, adapter, state, cls, preflightWarnings: preflight.warnings })
  }
  throwPreflightErrors(problems)

  const plans: CollectionPlan[] = []
  for (const { c, profile, adapter, state, cls, preflightWarnings } of checked) {
    const fp = fingerprint(profile)
    const encodes = cls.change === 'new-generation' || cls.change === 'cutover-retained'
    const throughput = encodes ? await throughputFor(profile, adapter, c) : undefined
    const steps = buildSteps({ collection: c, profile, fingerprint: fp, state, cls, throughput })
    // The first cutover on a store whose readers hit a concrete object must adopt it first; the adapter says how.
    const cutover = steps.find((s) => s.kind === 'cutover')
    const adoption = cutover && state.adoptable && adapter.describeAdoption ? await adapter.describeAdoption(c) : []
    if (cutover && state.adoptable && adoption.length > 0) cutover.touches.push(state.adoptable)
    plans.push({
      collection: c.name,
      store: c.store,
      change: cls.change,
      from: cls.live ? refOf(cls.live, cls.liveFingerprint) : null,
      to: {
        generation: cls.nextId,
        profile: profile.name,
        fingerprint: fp,
        dimensions: profile.dimensions,
        model: profile.model.source,
      },
      runtime: cls.runtime,
      steps,
      liveVersion: state.version,
      profile,
      warnings: [...inFlightWarnings(state), ...adoption.map((line) => `adoption of ${state.adoptable}: ${line}`), ...cls.warnings, ...preflightWarnings, ...(throughput?.warning && encodesRows(steps) ? [throughput.warning] : [])],
      ...(throughput ? { throughput: { textsPerSecond: throughput.textsPerSecond, source: throughput.source, ...(throughput.basis ? { basis: throughput.basis } : {}) } } : {}),
    })
  }
  return { formatVersion: PLAN_FORMAT_VERSION, id: randomUUID(), createdAt: new Date().toISOString(), configFile: ctx.config.file, collections: plans, summary: summarize(plans) }
}

export function summarize(plans: CollectionPlan[]): Plan['summary'] {
  let rowsToEncode = 0
  let seconds = 0
  let bytes = 0
  let timeKnown = true
  for (const p of plans) {
    for (const s of p.steps) {
      if (s.kind === 'backfill' || s.kind === 'catch-up') {
        rowsToEncode += s.estimate.rows ?? 0
        if ((s.estimate.rows ?? 0) > 0 && s.estimate.seconds === undefined) timeKnown = false
      }
      seconds += s.estimate.seconds ?? 0
      bytes += s.estimate.bytes ?? 0
    }
  }
  return {
    collections: plans.length,
    changes: plans.filter((p) => p.change !== 'none' && p.change !== 'runtime-only').length,
    rowsToEncode,
    seconds,
    bytes,
    timeKnown,
  }
}

export function planHasChanges(plan: Plan): boolean {
  return plan.summary.changes > 0
}
