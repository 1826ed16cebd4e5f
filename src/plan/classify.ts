/**
 * DESIGN.md "What the plan distinguishes", as one function: desired profile vs what the store
 * holds for a collection. Shared by makePlan and status so both always agree.
 */
import { fingerprint, stableJson } from '../core/fingerprint.js'
import type { Collection, Config, IndexSettings, Profile } from '../core/types.js'
import type { GenerationState, LiveState } from '../store/adapter.js'
import type { IndexRules } from '../store/plugin.js'
import { storePlugin } from '../store/registry.js'
import type { ChangeKind, RuntimeChange } from './types.js'

export interface Classification {
  change: ChangeKind
  live: GenerationState | null
  /** Fingerprint of the live generation, from the store or from the collection's adopted_profile. */
  liveFingerprint: string | null
  /** The generation that will be live after apply, when it already exists. */
  target: GenerationState | null
  /** Next generation id for a new generation: the reused building one, else max existing + 1. */
  nextId: number
  /** Index settings differ on `target` (live for index-rebuild, retained for cutover-retained). */
  indexChanged: boolean
  runtime: RuntimeChange[]
  warnings: string[]
  /** The index rules of the collection's store: what is compared, and whether an index is built. */
  index: IndexRules
}

/** A generation can serve a profile only if its vectors were made the same way and stored the same way. */
function servesProfile(g: GenerationState, fp: string | null, desired: Profile, desiredFp: string): boolean {
  return fp === desiredFp && g.dimensions === desired.dimensions && g.storage === desired.index.storage
}

/**
 * Only the metric and the store's own section count: another store's section changing must not
 * rebuild this one's index. Storage type is a column/field type decision, so it belongs to the
 * generation, not the index.
 */
function comparableIndex(s: IndexSettings, rules: IndexRules): string {
  return stableJson({ metric: s.metric, [rules.section]: s[rules.section] })
}

function indexDiffersIn(g: GenerationState, desired: Profile, rules: IndexRules, warnings: string[]): boolean {
  if (g.indexSettings) return comparableIndex(g.indexSettings, rules) !== comparableIndex(desired.index, rules)
  // Adopted generations carry no recorded settings: build one if there is none, otherwise keep
  // the team's existing index rather than rebuilding it on a guess.
  if (!g.index) return rules.plan(desired.index, 0).build
  warnings.push(`g${g.id} has an index (${g.index.name}) whose settings embedform did not record; it is kept as is`)
  return false
}

function runtimeChanges(g: GenerationState, desired: Profile): RuntimeChange[] {
  const snap = g.profileSnapshot
  if (!snap) return []
  const out: RuntimeChange[] = []
  if (snap.device !== desired.device) out.push({ key: 'device', from: snap.device, to: desired.device })
  if (snap.batchSize !== desired.batchSize) out.push({ key: 'batchSize', from: snap.batchSize, to: desired.batchSize })
  if ((snap.threads ?? null) !== (desired.threads ?? null)) out.push({ key: 'threads', from: snap.threads ?? null, to: desired.threads ?? null })
  return out
}

export function liveFingerprintOf(g: GenerationState, collection: Collection, config: Config): string | null {
  if (g.fingerprint) return g.fingerprint
  const adopted = collection.adoptedProfile ? config.profiles[collection.adoptedProfile] : undefined
  return adopted && adopted.dimensions === g.dimensions ? fingerprint(adopted) : null
}

export interface ClassifyOptions {
  /** From the adapter's capabilities: false means new index settings need a new generation. */
  inPlaceIndexRebuild: boolean
}

export function classify(
  collection: Collection,
  desired: Profile,
  state: LiveState,
  config: Config,
  opts: ClassifyOptions = { inPlaceIndexRebuild: true },
): Classification {
  const desiredFp = fingerprint(desired)
  const rules = storePlugin(config.stores[collection.store]!.kind, { path: `stores.${collection.store}.kind` }).index
  const indexDiffers = (g: GenerationState, w: string[]) => indexDiffersIn(g, desired, rules, w)
  const warnings: string[] = []
  const live = state.live === null ? null : (state.generations.find((g) => g.id === state.live) ?? null)
  const liveFp = live ? liveFingerprintOf(live, collection, config) : null
  const maxId = state.generations.reduce((m, g) => Math.max(m, g.id), 0)
  const base = { live, liveFingerprint: liveFp, runtime: [] as RuntimeChange[], warnings, index: rules }

  if (live && liveFp === null) {
    warnings.push(
      collection.adoptedProfile
        ? `adopted_profile ${collection.adoptedProfile} does not describe the live vectors (${live.dimensions}-d); they are re-embedded`
        : `the live vectors in g${live.id} were made by an unknown model; set adopted_profile to keep them if they match a profile`,
    )
  }
  if (live && live.populated < state.rows) {
    warnings.push(`${(state.rows - live.populated).toLocaleString('en-US')} rows have no vector in the live generation g${live.id}`)
  }

  const liveIndexChanged = live !== null && servesProfile(live, liveFp, desired, desiredFp) && indexDiffers(live, warnings)
  if (live && servesProfile(live, liveFp, desired, desiredFp) && (!liveIndexChanged || opts.inPlaceIndexRebuild)) {
    const runtime = runtimeChanges(live, desired)
    const change: ChangeKind = liveIndexChanged ? 'index-rebuild' : runtime.length > 0 ? 'runtime-only' : 'none'
    return { ...base, change, target: live, nextId: live.id, indexChanged: liveIndexChanged, runtime }
  }
  if (liveIndexChanged) {
    warnings.push(`this store cannot rebuild an index in place (the k-NN graph is part of the index): new index settings mean a new generation`)
  }

  const retained = state.generations
    .filter((g) => g.status === 'retained' && servesProfile(g, liveFingerprintOf(g, collection, config), desired, desiredFp))
    .filter((g) => opts.inPlaceIndexRebuild || !indexDiffers(g, []))
    .sort((a, b) => b.id - a.id)[0]
  if (retained) {
    return { ...base, change: 'cutover-retained', target: retained, nextId: retained.id, indexChanged: indexDiffers(retained, warnings) }
  }

  const building = state.generations
    .filter((g) => g.status === 'building' && servesProfile(g, g.fingerprint, desired, desiredFp))
    .sort((a, b) => b.id - a.id)[0]
  if (building) {
    warnings.push(`reusing building generation g${building.id} (${building.populated.toLocaleString('en-US')} rows already embedded)`)
  }
  if (live && live.dimensions !== desired.dimensions) {
    warnings.push(`dimensions change ${live.dimensions} → ${desired.dimensions}: only a new generation can hold them`)
  }
  return {
    ...base,
    change: 'new-generation',
    target: building ?? null,
    nextId: building?.id ?? maxId + 1,
    indexChanged: true,
  }
}
