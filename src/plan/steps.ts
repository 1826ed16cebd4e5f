/**
 * Turns a classification into ordered, estimated steps. Step ids are `collection/gN/kind`,
 * stable for a given plan, because the journal records them to resume.
 */
import type { Collection, Profile } from '../core/types.js'
import type { LiveState } from '../store/adapter.js'
import type { Classification } from './classify.js'
import { encodeSeconds, formatCount, storageBytes } from './estimate.js'
import type { PlanStep, StepEstimate, StepKind } from './types.js'

export interface Throughput {
  textsPerSecond: number
  source: 'measured' | 'declared'
  /** What was measured, when more than the encoder alone: shown as the estimate's basis. */
  basis?: string
  /** Something the measurement found that the user should know before applying. */
  warning?: string
}

interface StepInput {
  collection: Collection
  profile: Profile
  fingerprint: string
  state: LiveState
  cls: Classification
  throughput: Throughput | undefined
}

export function stepId(collection: string, generation: number, kind: StepKind): string {
  return `${collection}/g${generation}/${kind}`
}

function throughputBasis(t: Throughput | undefined): string {
  if (!t) return 'time unknown: no measured or declared throughput (run plan --measure or set throughput in the profile)'
  if (t.basis) return t.basis
  return `${t.source} ${formatCount(Math.round(t.textsPerSecond))} texts/s`
}

export function buildSteps(input: StepInput): PlanStep[] {
  const { collection, profile, state, cls } = input
  const g = cls.nextId
  const c = collection.name
  const where = `generation g${g} of ${collection.target}`
  const missingInTarget = Math.max(0, state.rows - (cls.target?.populated ?? 0))
  const steps: PlanStep[] = []
  const add = (kind: StepKind, title: string, extra: Partial<PlanStep> & { estimate?: StepEstimate } = {}): void => {
    steps.push({
      id: stepId(c, g, kind),
      kind,
      collection: c,
      generation: g,
      title,
      touches: [where],
      reversible: true,
      affectsReaders: false,
      estimate: {},
      ...extra,
    })
  }
  const encodeEstimate = (rows: number): StepEstimate => {
    const seconds = encodeSeconds(rows, input.throughput?.textsPerSecond)
    return { rows, ...(seconds === undefined ? {} : { seconds }), basis: throughputBasis(input.throughput) }
  }
  const indexSteps = (): void => {
    if (cls.target?.index) {
      add('drop-index', `drop index ${cls.target.index.name} on g${g}${cls.change === 'index-rebuild' ? ' (search on it is slower until the rebuild finishes)' : ''}`, {
        touches: [`index ${cls.target.index.name}`],
      })
    }
    // The store decides: pgvector skips the step for `type: none`, OpenSearch always needs it.
    const ix = cls.index.plan(profile.index, state.rows)
    if (ix.build) {
      add('build-index', `build index ${ix.label} on g${g}`, {
        estimate: { rows: state.rows, ...(ix.seconds === undefined ? {} : { seconds: ix.seconds }), ...(ix.basis ? { basis: ix.basis } : {}) },
      })
    }
  }
  const verify = (): void => add('verify', `verify g${g}: row counts, dimensions, index validity, sample neighbours`)
  const gateAndCutover = (): void => {
    if (profile.gate && cls.live) {
      add('quality-gate', `quality gate ${profile.gate.metric} of g${g} vs g${cls.live.id} (max drop ${profile.gate.maxDrop})`)
    }
    add('cutover', `cut over ${collection.vector} → g${g}`, {
      touches: [`${collection.target} ${collection.vector}`],
      affectsReaders: true,
    })
    if (cls.live) {
      add('retain-previous', `retain g${cls.live.id} for rollback (until gc)`, { touches: [`generation g${cls.live.id} of ${collection.target}`] })
    }
  }

  // A concrete index named like the alias, with vectors, becomes an alias over a clone of itself before anything else.
  const adopt = (): void => {
    if (!state.adoptable || !cls.live) return
    add('adopt', `adopt ${state.adoptable}: clone it into g${cls.live.id} behind alias ${collection.target} (writes held for the clone)`, {
      touches: [`index ${state.adoptable}`],
      reversible: false,
      affectsReaders: true,
    })
  }

  switch (cls.change) {
    case 'none':
    case 'runtime-only':
      return steps
    case 'index-rebuild':
      indexSteps()
      verify()
      return steps
    case 'cutover-retained':
      adopt()
      add('catch-up', `catch up g${g}: embed rows written since it was live`, { estimate: encodeEstimate(missingInTarget) })
      if (cls.indexChanged) indexSteps()
      verify()
      gateAndCutover()
      return steps
    case 'new-generation':
      adopt()
      add(
        'create-generation',
        `create generation g${g} (${profile.name}, ${profile.dimensions}-d ${profile.index.storage}, fingerprint ${input.fingerprint.slice(0, 8)}…)`,
        { estimate: { bytes: storageBytes(state.rows, profile.dimensions, profile.index.storage) } },
      )
      add('backfill', `backfill g${g} with ${profile.name}`, { estimate: encodeEstimate(missingInTarget) })
      add('catch-up', `catch up g${g}: rows written or changed during the backfill`)
      indexSteps()
      verify()
      gateAndCutover()
      return steps
  }
}
