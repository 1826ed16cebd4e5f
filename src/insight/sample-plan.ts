/**
 * `plan --sample N`: the price and the quality of a model change measured on N rows drawn at
 * random from the collection, before anything is written. The candidate profile encodes the
 * sampled texts (measuring texts/s on this machine on real rows), its tokenizer counts their
 * tokens, and the live generation's stored vectors for the same rows give a label-free quality
 * preview: how many of each row's nearest sampled neighbours the two models agree on.
 */
import { failure, inputError } from '../core/errors.js'
import type { Collection, Profile } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import { generationProfile } from '../eval/evaluate.js'
import { bytesPerRow, encodeSeconds } from '../plan/estimate.js'
import type { CollectionPlan, EngineContext, Plan } from '../plan/types.js'
import type { GenerationState, SampledRow, StoreAdapter } from '../store/adapter.js'
import { neighbourOverlap, type NeighbourOverlap } from './neighbours.js'
import { previewGate, type SampleGatePreview } from './sample-quality.js'
import { openTokenCounter, tokenStats, type OpenTokenCounter, type TokenStats } from './tokens.js'

export const DEFAULT_OVERLAP_K = 10

export interface SampleOptions {
  rows: number
  k?: number
  openTokenCounter?: OpenTokenCounter
}

export interface CollectionSample {
  collection: string
  profile: string
  /** Rows actually sampled (fewer when the collection is smaller). */
  sampled: number
  throughput: { textsPerSecond: number; texts: number; seconds: number }
  /** Time to encode every row the plan encodes, at the measured speed. */
  eta: { rows: number; seconds: number }
  tokens: TokenStats
  storage: { bytesPerRow: number; rows: number; bytes: number }
  /** Neighbour agreement between the live generation's stored vectors and the candidate's; null without live vectors. */
  overlap: (NeighbourOverlap & { liveGeneration: number }) | null
  gate: SampleGatePreview | null
  notes: string[]
}

export interface SampleReport {
  rows: number
  collections: CollectionSample[]
}

/** Plans that encode anything; the others have nothing to price. */
function encodes(p: CollectionPlan): boolean {
  return p.change === 'new-generation' || p.change === 'cutover-retained'
}

function rowsToEncode(p: CollectionPlan): number {
  return p.steps.filter((s) => s.kind === 'backfill' || s.kind === 'catch-up').reduce((n, s) => n + (s.estimate.rows ?? 0), 0)
}

export function requireSampling(adapter: StoreAdapter, c: Collection): NonNullable<StoreAdapter['sample']> {
  if (!adapter.sample) {
    throw inputError('E_SAMPLE_UNSUPPORTED', `store "${c.store}" (${adapter.kind}) cannot draw sample rows`, {
      location: { path: `stores.${c.store}` },
      hint: 'sampling needs a store plugin that implements sample(); run `embedform plan` without --sample',
    })
  }
  return adapter.sample.bind(adapter)
}

async function timedEncode(encoder: Encoder, profile: Profile, texts: string[]): Promise<{ vectors: Float32Array[]; seconds: number }> {
  // One warm-up batch first: session creation and first-run allocation are not throughput.
  await encoder.encode(texts.slice(0, Math.max(1, Math.min(profile.batchSize, texts.length))), 'document')
  const started = performance.now()
  const vectors: Float32Array[] = []
  for (let i = 0; i < texts.length; i += profile.batchSize) vectors.push(...(await encoder.encode(texts.slice(i, i + profile.batchSize), 'document')))
  return { vectors, seconds: (performance.now() - started) / 1000 }
}

async function sampleCollection(ctx: EngineContext, plan: CollectionPlan, opts: SampleOptions): Promise<CollectionSample> {
  const c = ctx.config.collections[plan.collection]
  if (!c) throw failure('E_INTERNAL', `collection ${plan.collection} of the plan is not configured`)
  const adapter = await ctx.adapterFor(c.store)
  const sample = requireSampling(adapter, c)
  const state = await adapter.inspect(c)
  const live: GenerationState | undefined = state.generations.find((g) => g.id === state.live)
  const rows: SampledRow[] = await sample(c, opts.rows, live?.id)
  const notes: string[] = []
  const profile = plan.profile
  const count = await (opts.openTokenCounter ?? openTokenCounter)(profile, ctx.encoderOptions)
  const tokens = tokenStats(
    rows.map((r) => count(r.text)),
    profile.maxTokens,
  )
  const encoder = await ctx.openEncoder(profile, ctx.encoderOptions)
  try {
    const texts = rows.map((r) => r.text)
    const { vectors, seconds } = texts.length > 0 ? await timedEncode(encoder, profile, texts) : { vectors: [], seconds: 0 }
    const textsPerSecond = seconds > 0 ? texts.length / seconds : 0
    const total = rowsToEncode(plan)
    const per = bytesPerRow(profile.dimensions, profile.index.storage)
    let overlap: CollectionSample['overlap'] = null
    let gate: SampleGatePreview | null = null
    const paired = rows.map((r, i) => ({ row: r, candidate: vectors[i]! })).filter((p) => p.row.vector)
    if (live && paired.length > 1) {
      const liveMetric = live.indexSettings?.metric ?? profile.index.metric
      const liveSpace = { vectors: paired.map((p) => p.row.vector!), metric: liveMetric }
      const candSpace = { vectors: paired.map((p) => p.candidate), metric: profile.index.metric }
      overlap = { ...neighbourOverlap(liveSpace, candSpace, opts.k ?? DEFAULT_OVERLAP_K), liveGeneration: live.id }
      if (paired.length < rows.length) notes.push(`${rows.length - paired.length} sampled rows have no vector in live g${live.id}; the overlap covers the other ${paired.length}`)
      if (profile.gate?.qrels) {
        let liveProfile: Profile | undefined
        try {
          liveProfile = generationProfile(live, c, ctx.config)
        } catch {
          notes.push(`gate preview skipped: the model of live g${live.id} is unknown (declare adopted_profile on collection "${c.name}")`)
        }
        if (liveProfile) {
          const liveEncoder = await ctx.openEncoder(liveProfile, ctx.encoderOptions)
          try {
            const keys = paired.map((p) => p.row.key)
            gate = await previewGate({
              gate: profile.gate,
              configFile: ctx.config.file,
              profile,
              live: { keys, ...liveSpace, encoder: liveEncoder },
              candidate: { keys, ...candSpace, encoder },
            })
          } finally {
            await liveEncoder.close()
          }
        }
      }
    } else if (!live) {
      notes.push('no live generation yet: nothing to compare the candidate with')
    }
    if (gate?.likely === 'unknown') notes.push(`none of the gate's judged rows was sampled; sample more rows for a gate preview`)
    return {
      collection: c.name,
      profile: profile.name,
      sampled: rows.length,
      throughput: { textsPerSecond, texts: texts.length, seconds },
      eta: { rows: total, seconds: encodeSeconds(total, textsPerSecond) ?? 0 },
      tokens,
      // Switching back to a retained generation reuses its storage; only a new generation adds any.
      storage: { bytesPerRow: per, rows: state.rows, bytes: plan.change === 'new-generation' ? per * state.rows : 0 },
      overlap,
      gate,
      notes,
    }
  } finally {
    await encoder.close()
  }
}

/** Samples every collection of the plan that encodes anything. Writes nothing to any store. */
export async function samplePlan(ctx: EngineContext, plan: Plan, opts: SampleOptions): Promise<SampleReport> {
  if (!Number.isInteger(opts.rows) || opts.rows < 2) {
    throw inputError('E_SAMPLE_SIZE', `--sample needs at least 2 rows (got ${opts.rows})`, { hint: 'e.g. `embedform plan --sample 500`' })
  }
  const collections: CollectionSample[] = []
  for (const p of plan.collections.filter(encodes)) collections.push(await sampleCollection(ctx, p, opts))
  return { rows: opts.rows, collections }
}
