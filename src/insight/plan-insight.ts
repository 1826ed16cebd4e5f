/**
 * What `plan` adds to the plan itself: drift of the live generations (pending work even when the
 * configuration did not change), the adoption check of declared adopted_profiles, and, with
 * --sample, the sampled price and quality of the change.
 */
import { checkAdoption, type AttestReport } from '../attest/attest.js'
import { liveDrift, renderDrift, type Drift } from '../attest/drift.js'
import type { EngineContext, Plan } from '../plan/types.js'
import { renderSampleReport } from './render.js'
import { samplePlan, type SampleReport } from './sample-plan.js'
import { renderZeroVectors, zeroVectorCounts, type ZeroVectors } from './zero-vectors.js'

export interface PlanInsight {
  drift: Drift[]
  /** Generations holding all-zero vectors, with how many. */
  zeroVectors: ZeroVectors[]
  /** Attestations of adopted live generations against their declared adopted_profile. */
  adoption: AttestReport[]
  samples?: SampleReport
}

export async function planInsight(ctx: EngineContext, plan: Plan, opts: { sample?: number } = {}): Promise<PlanInsight> {
  const adoption: AttestReport[] = []
  for (const p of plan.collections) {
    const c = ctx.config.collections[p.collection]
    const report = c ? await checkAdoption(ctx, c) : null
    if (report) adoption.push(report)
  }
  const drift = await liveDrift(ctx, plan)
  const zeroVectors = await zeroVectorCounts(ctx, plan)
  const samples = opts.sample !== undefined ? await samplePlan(ctx, plan, { rows: opts.sample }) : undefined
  return { drift, zeroVectors, adoption, ...(samples ? { samples } : {}) }
}

export function renderPlanInsight(i: PlanInsight): string {
  const lines = [
    ...i.adoption.map((a) => `adopted g${a.generation} of ${a.collection} attested against profile ${a.profile}: ${a.fresh} of ${a.sampled} sampled vectors match`),
    ...i.drift.map(renderDrift),
    ...i.zeroVectors.map(renderZeroVectors),
  ]
  return (lines.length > 0 ? `${lines.join('\n')}\n` : '') + (i.samples ? renderSampleReport(i.samples) : '')
}
