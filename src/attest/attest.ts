/**
 * Attestation: do the live generation's stored vectors still come from its own profile? A random
 * sample is re-encoded with the generation's profile and each stored vector is compared with the
 * fresh one. The freshness record decides stale (text changed since the vector was made) and
 * missing; a vector whose text matches but whose direction does not is foreign — made by another
 * model, version or setting than the generation claims (a silent model mix).
 */
import { inputError } from '../core/errors.js'
import type { Collection, Profile } from '../core/types.js'
import { generationProfile } from '../eval/evaluate.js'
import { requireSampling } from '../insight/sample-plan.js'
import { cosine } from '../insight/neighbours.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState, RowKey, SampledRow, StoreAdapter } from '../store/adapter.js'

/** Re-encoding the same text with the same model reproduces the vector to float (or halfvec) rounding. */
export const FRESH_COSINE = 0.999
export const DEFAULT_ATTEST_SAMPLE = 200

/** skipped: no vector by the profile's zero_vectors: skip, recorded from the row's current text (not drift). */
export type Verdict = 'fresh' | 'stale' | 'foreign' | 'missing' | 'skipped'

export interface AttestReport {
  collection: string
  generation: number
  profile: string
  sampled: number
  fresh: number
  stale: number
  foreign: number
  missing: number
  skipped: number
  /** Lowest cosine among the rows compared (fresh or foreign); null when none was. */
  minCosine: number | null
  /** Anything but fresh or skipped in the sample. */
  drift: boolean
  /** Up to 10 rows that are not fresh, for a human to look at. */
  examples: { key: RowKey; verdict: Exclude<Verdict, 'fresh' | 'skipped'>; cosine: number | null }[]
}

export function classifyRow(row: SampledRow, reencoded: Float32Array | undefined): { verdict: Verdict; cosine: number | null } {
  if (row.record === 'skipped') return { verdict: 'skipped', cosine: null }
  if (!row.vector || row.record === 'missing') return { verdict: 'missing', cosine: null }
  if (row.record === 'stale') return { verdict: 'stale', cosine: null }
  const cos = reencoded ? cosine(row.vector, reencoded) : 0
  return { verdict: cos >= FRESH_COSINE ? 'fresh' : 'foreign', cosine: cos }
}

export async function attestGeneration(args: {
  ctx: EngineContext
  adapter: StoreAdapter
  collection: Collection
  generation: GenerationState
  profile: Profile
  rows: number
}): Promise<AttestReport> {
  const { ctx, collection: c, generation: g, profile } = args
  const sample = await requireSampling(args.adapter, c)(c, args.rows, g.id)
  const compare = sample.filter((r) => r.vector && r.record !== 'stale' && r.record !== 'missing' && r.record !== 'skipped')
  const encoder = await ctx.openEncoder(profile, ctx.encoderOptions)
  const reencoded = new Map<SampledRow, Float32Array>()
  try {
    for (let i = 0; i < compare.length; i += profile.batchSize) {
      const batch = compare.slice(i, i + profile.batchSize)
      const vectors = await encoder.encode(
        batch.map((r) => r.text),
        'document',
      )
      batch.forEach((r, j) => reencoded.set(r, vectors[j]!))
    }
  } finally {
    await encoder.close()
  }
  const counts: Record<Verdict, number> = { fresh: 0, stale: 0, foreign: 0, missing: 0, skipped: 0 }
  const examples: AttestReport['examples'] = []
  let minCosine: number | null = null
  for (const row of sample) {
    const { verdict, cosine: cos } = classifyRow(row, reencoded.get(row))
    counts[verdict]++
    if (cos !== null) minCosine = minCosine === null ? cos : Math.min(minCosine, cos)
    if (verdict !== 'fresh' && verdict !== 'skipped' && examples.length < 10) examples.push({ key: row.key, verdict, cosine: cos })
  }
  return { collection: c.name, generation: g.id, profile: profile.name, sampled: sample.length, ...counts, minCosine, drift: counts.fresh + counts.skipped < sample.length, examples }
}

/** Attests the live generation of `c` with the profile that made it (its snapshot, or adopted_profile). */
export async function attestLive(ctx: EngineContext, c: Collection, rows: number): Promise<AttestReport | null> {
  const adapter = await ctx.adapterFor(c.store)
  const state = await adapter.inspect(c)
  const live = state.generations.find((g) => g.id === state.live)
  if (!live) return null
  return attestGeneration({ ctx, adapter, collection: c, generation: live, profile: generationProfile(live, c, ctx.config), rows })
}

/**
 * Adopting a vector column embedform did not make: when the collection declares adopted_profile,
 * the vectors must be what that profile makes, or every later comparison (gate, rollback,
 * search) would run queries in the wrong space. Any foreign vector in the sample refuses it.
 */
export async function checkAdoption(ctx: EngineContext, c: Collection, rows = DEFAULT_ATTEST_SAMPLE): Promise<AttestReport | null> {
  if (!c.adoptedProfile) return null
  const adapter = await ctx.adapterFor(c.store)
  if (!adapter.sample) return null
  const state = await adapter.inspect(c)
  const live = state.generations.find((g) => g.id === state.live)
  if (!live || live.profileSnapshot || live.fingerprint) return null
  const report = await attestGeneration({ ctx, adapter, collection: c, generation: live, profile: generationProfile(live, c, ctx.config), rows })
  if (report.foreign > 0) {
    throw inputError(
      'E_ADOPTED_PROFILE_MISMATCH',
      `collection "${c.name}" declares adopted_profile ${c.adoptedProfile}, but ${report.foreign} of ${report.sampled} sampled vectors in ${live.physical} are not what that profile makes (lowest cosine ${report.minCosine?.toFixed(4) ?? '-'}, fresh needs ≥ ${FRESH_COSINE})`,
      {
        location: { path: `collections.${c.name}.adopted_profile`, object: live.physical },
        hint: `name the profile that really made ${live.physical} in adopted_profile, or remove adopted_profile; \`embedform status --attest\` shows which rows differ`,
      },
    )
  }
  return report
}

export function renderAttest(r: AttestReport): string {
  const head = `attestation of ${r.collection} live g${r.generation} with profile ${r.profile} over ${r.sampled} random rows: ${r.fresh} fresh, ${r.stale} stale, ${r.missing} missing, ${r.foreign} foreign${r.skipped > 0 ? `, ${r.skipped} skipped (zero_vectors: skip)` : ''}`
  const verdict = r.drift
    ? r.foreign > 0
      ? `  DRIFT: ${r.foreign} vectors do not match what ${r.profile} makes from their text (lowest cosine ${r.minCosine?.toFixed(4)}): a vector from another model or setting`
      : `  DRIFT: vectors behind their rows' text; \`embedform sync ${r.collection}\` re-embeds them`
    : `  attested: every sampled vector is what ${r.profile} makes from the row's current text (cosine ≥ ${FRESH_COSINE})`
  const examples = r.examples.map((e) => `    ${e.verdict.padEnd(8)} key ${String(e.key)}${e.cosine === null ? '' : `  cosine ${e.cosine.toFixed(4)}`}`)
  return [head, verdict, ...examples].join('\n')
}
