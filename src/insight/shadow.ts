/**
 * Shadow traffic for a held cutover: the same real queries replayed one by one against the live
 * generation and the candidate, each in its own vector space (queries encoded with the
 * generation's own profile), as the application would send them. Reports how much the answers
 * agree (overlap@k), the judged metric when qrels are given, and per-query latency for both.
 */
import { failure, inputError } from '../core/errors.js'
import type { Collection } from '../core/types.js'
import { generationProfile } from '../eval/evaluate.js'
import type { Query } from '../eval/formats.js'
import { type MetricSpec, type Qrels, formatMetric, meanJudged, meanOverlap, rankHits } from '../eval/metrics.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState, LiveState, StoreAdapter } from '../store/adapter.js'
import { percentile } from '../encoder/benchmark.js'

export interface Latency {
  /** Encode + search per query, milliseconds. */
  p50Ms: number
  p95Ms: number
  meanMs: number
}

export interface ShadowSide {
  generation: number
  profile: string
  latency: Latency
  /** Judged metric (with qrels). */
  metric?: number
}

export interface ShadowReport {
  collection: string
  queries: number
  k: number
  live: ShadowSide
  candidate: ShadowSide
  /** Mean overlap@k of the candidate's answers with the live generation's. */
  overlap: number
  metric?: string
}

/** The held (or otherwise building) generation of the apply in flight, unless one is named. */
export function candidateOf(state: LiveState, c: Collection, id: number | undefined): GenerationState {
  const wanted = id ?? state.journal?.generation
  const g = wanted === undefined ? undefined : state.generations.find((x) => x.id === wanted)
  if (!g || g.id === state.live) {
    throw inputError('E_NO_CANDIDATE', wanted === undefined ? `collection "${c.name}" has no apply in flight, so there is no candidate generation` : `g${wanted} of collection "${c.name}" is ${g ? 'the live generation' : 'not in the store'}`, {
      location: { object: c.target },
      hint: 'run `embedform apply --hold` first, or name a retained/building generation with --candidate gN',
    })
  }
  return g
}

async function replay(ctx: EngineContext, adapter: StoreAdapter, c: Collection, g: GenerationState, queries: readonly Query[], k: number): Promise<{ rankings: Map<string, string[]>; latency: Latency; profile: string }> {
  const profile = generationProfile(g, c, ctx.config)
  const encoder = await ctx.openEncoder(profile, ctx.encoderOptions)
  const rankings = new Map<string, string[]>()
  const times: number[] = []
  try {
    // Warm-up: the first session.run allocates; real traffic never pays that per query.
    await encoder.encode([queries[0]?.text ?? 'warm up'], 'query')
    for (const q of queries) {
      const started = performance.now()
      const [vector] = await encoder.encode([q.text], 'query')
      if (!vector) throw failure('E_ENCODER', `the encoder returned no vector for query ${q.id}`)
      const hits = await adapter.search(c, g.id, { vector, k, text: q.text })
      times.push(performance.now() - started)
      rankings.set(q.id, rankHits(hits).slice(0, k))
    }
  } finally {
    await encoder.close()
  }
  const sorted = [...times].sort((a, b) => a - b)
  return {
    rankings,
    profile: profile.name,
    latency: { p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), meanMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length) },
  }
}

export async function shadowTraffic(args: {
  ctx: EngineContext
  collection: Collection
  queries: readonly Query[]
  k: number
  qrels?: Qrels
  metric?: MetricSpec
  candidate?: number
}): Promise<ShadowReport> {
  const { ctx, collection: c, queries, k } = args
  const adapter = await ctx.adapterFor(c.store)
  const state = await adapter.inspect(c)
  const live = state.generations.find((g) => g.id === state.live)
  if (!live) throw inputError('E_NO_LIVE', `collection "${c.name}" has no live generation to compare with`, { location: { object: c.target } })
  const candidate = candidateOf(state, c, args.candidate)
  const l = await replay(ctx, adapter, c, live, queries, k)
  const cand = await replay(ctx, adapter, c, candidate, queries, k)
  const spec = args.metric ?? { name: 'ndcg' as const, k }
  const judged = args.qrels && spec.name !== 'overlap' ? { name: spec.name, k: spec.k } : undefined
  return {
    collection: c.name,
    queries: queries.length,
    k,
    live: { generation: live.id, profile: l.profile, latency: l.latency, ...(judged && args.qrels ? { metric: meanJudged(judged, l.rankings, args.qrels).value } : {}) },
    candidate: { generation: candidate.id, profile: cand.profile, latency: cand.latency, ...(judged && args.qrels ? { metric: meanJudged(judged, cand.rankings, args.qrels).value } : {}) },
    overlap: meanOverlap(k, cand.rankings, l.rankings).value,
    ...(judged ? { metric: formatMetric(spec) } : {}),
  }
}

export function renderShadow(r: ShadowReport): string {
  const side = (name: string, s: ShadowSide) =>
    `  ${name.padEnd(10)} g${s.generation} (${s.profile}): latency p50 ${s.latency.p50Ms.toFixed(1)} ms, p95 ${s.latency.p95Ms.toFixed(1)} ms${s.metric !== undefined ? `, ${r.metric} ${s.metric.toFixed(4)}` : ''}`
  return [
    `shadow traffic on ${r.collection}: ${r.queries} queries replayed against both generations (top ${r.k})`,
    side('live', r.live),
    side('candidate', r.candidate),
    `  overlap@${r.k} of the candidate's answers with live: ${r.overlap.toFixed(4)}`,
  ].join('\n')
}
