/**
 * Runs a query set against generations of a collection and scores the rankings. Each generation
 * is queried in its own vector space: queries are encoded with the generation's own profile
 * (its snapshot), never with whatever profiles/ says today.
 */
import { failure, inputError } from '../core/errors.js'
import type { Collection, Config, Profile } from '../core/types.js'
import type { EncoderOptions, OpenEncoder } from '../encoder/types.js'
import type { GenerationState, GenerationStatus, StoreAdapter } from '../store/adapter.js'
import type { Query } from './formats.js'
import { type JudgedMetricName, type MetricSpec, type MetricSummary, type Qrels, formatMetric, meanJudged, meanOverlap, rankHits } from './metrics.js'

export type Rankings = Map<string, string[]>

/**
 * The profile that made a generation's vectors: its snapshot, or — for a generation adopted from
 * a table embedform never built — the collection's declared `adopted_profile`.
 */
export function generationProfile(generation: GenerationState, collection: Collection, config: Pick<Config, 'profiles'>): Profile {
  if (generation.profileSnapshot) return generation.profileSnapshot
  const adopted = collection.adoptedProfile ? config.profiles[collection.adoptedProfile] : undefined
  if (adopted) return adopted
  throw inputError('E_GENERATION_MODEL_UNKNOWN', `generation g${generation.id} of collection "${collection.name}" was adopted from existing vectors and its model is unknown, so queries cannot be encoded in its vector space`, {
    location: { path: `collections.${collection.name}.adopted_profile`, object: generation.physical },
    hint: `declare \`adopted_profile: <profile that made column/index ${generation.physical}>\` on collection "${collection.name}"`,
  })
}

export interface RankArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: number
  profile: Profile
  queries: readonly Query[]
  k: number
  openEncoder: OpenEncoder
  encoderOptions?: EncoderOptions
}

export interface RankResult {
  rankings: Rankings
  encodeMs: number
  searchMs: number
}

/** Encodes every query (kind 'query', so the profile's query prefix applies) and retrieves its top k. */
export async function rankQueries(args: RankArgs): Promise<RankResult> {
  const encoder = await args.openEncoder(args.profile, args.encoderOptions)
  const rankings: Rankings = new Map()
  let encodeMs = 0
  let searchMs = 0
  try {
    const step = Math.max(1, args.profile.batchSize)
    for (let start = 0; start < args.queries.length; start += step) {
      const batch = args.queries.slice(start, start + step)
      const t0 = performance.now()
      const vectors = await encoder.encode(batch.map((q) => q.text), 'query')
      const t1 = performance.now()
      encodeMs += t1 - t0
      if (vectors.length !== batch.length) {
        throw failure('E_ENCODE_COUNT', `the encoder of profile "${args.profile.name}" returned ${vectors.length} vectors for ${batch.length} queries`)
      }
      for (const [i, q] of batch.entries()) {
        const vector = vectors[i] as Float32Array
        const hits = await args.adapter.search(args.collection, args.generation, { vector, k: args.k })
        rankings.set(q.id, rankHits(hits))
      }
      searchMs += performance.now() - t1
    }
  } finally {
    await encoder.close()
  }
  return { rankings, encodeMs, searchMs }
}

export interface GenerationEval {
  generation: number
  status: GenerationStatus
  profile: string | null
  model: string | null
  /** Keyed by metric label: `ndcg@10`. */
  metrics: Record<string, MetricSummary>
  timings: { encodeMs: number; searchMs: number; queries: number }
}

export interface EvalReport {
  collection: string
  queries: number
  /** true: metrics against qrels; false: overlap@k against the live generation. */
  judged: boolean
  /** Row labels in display order. */
  metrics: string[]
  generations: GenerationEval[]
}

export interface EvaluateArgs {
  adapter: StoreAdapter
  collection: Collection
  config: Pick<Config, 'profiles'>
  /** All generations the store holds (inspect().generations); the live one is found among them. */
  available: readonly GenerationState[]
  /** Generations to report on. */
  targets: readonly GenerationState[]
  queries: readonly Query[]
  qrels?: Qrels
  cutoffs: readonly number[]
  openEncoder: OpenEncoder
  encoderOptions?: EncoderOptions
}

const JUDGED: readonly JudgedMetricName[] = ['ndcg', 'recall', 'mrr', 'map']

export function metricSpecs(judged: boolean, cutoffs: readonly number[]): MetricSpec[] {
  const names = judged ? JUDGED : (['overlap'] as const)
  return names.flatMap((name) => cutoffs.map((k) => ({ name, k })))
}

/** Scores one ranking set: judged metrics against qrels, overlap against the reference rankings. */
export function scoreRankings(spec: MetricSpec, rankings: Rankings, source: { qrels?: Qrels; reference?: Rankings }): MetricSummary {
  if (spec.name === 'overlap') {
    if (!source.reference) throw inputError('E_EVAL_NO_REFERENCE', `${formatMetric(spec)} compares with the live generation, and there is none`)
    return meanOverlap(spec.k, rankings, source.reference)
  }
  if (!source.qrels) {
    throw inputError('E_EVAL_NO_QRELS', `${formatMetric(spec)} needs relevance judgements`, { hint: 'pass --qrels FILE, or use overlap@k to compare with the live generation' })
  }
  return meanJudged({ name: spec.name, k: spec.k }, rankings, source.qrels)
}

/**
 * Evaluates each target generation. With qrels: NDCG, Recall, MRR and MAP at every cutoff.
 * Without: overlap@k of each generation's top k with the live generation's (live scores 1).
 */
export async function evaluateGenerations(args: EvaluateArgs): Promise<EvalReport> {
  const judged = args.qrels !== undefined
  const specs = metricSpecs(judged, args.cutoffs)
  const k = Math.max(...args.cutoffs)
  const cache = new Map<number, RankResult>()
  const rank = async (g: GenerationState): Promise<RankResult> => {
    const known = cache.get(g.id)
    if (known) return known
    const result = await rankQueries({
      adapter: args.adapter,
      collection: args.collection,
      generation: g.id,
      profile: generationProfile(g, args.collection, args.config),
      queries: args.queries,
      k,
      openEncoder: args.openEncoder,
      ...(args.encoderOptions ? { encoderOptions: args.encoderOptions } : {}),
    })
    cache.set(g.id, result)
    return result
  }

  let reference: Rankings | undefined
  if (!judged) {
    const live = args.available.find((g) => g.status === 'live')
    if (!live) {
      throw inputError('E_EVAL_NO_REFERENCE', `collection "${args.collection.name}" has no live generation to compare with`, {
        hint: 'pass --qrels FILE to score generations against relevance judgements',
      })
    }
    reference = (await rank(live)).rankings
  }

  const generations: GenerationEval[] = []
  for (const g of args.targets) {
    const result = await rank(g)
    const metrics: Record<string, MetricSummary> = {}
    for (const spec of specs) metrics[formatMetric(spec)] = scoreRankings(spec, result.rankings, { ...(args.qrels ? { qrels: args.qrels } : {}), ...(reference ? { reference } : {}) })
    generations.push({
      generation: g.id,
      status: g.status,
      profile: g.profile,
      model: g.model,
      metrics,
      timings: { encodeMs: result.encodeMs, searchMs: result.searchMs, queries: args.queries.length },
    })
  }
  return { collection: args.collection.name, queries: args.queries.length, judged, metrics: specs.map(formatMetric), generations }
}
