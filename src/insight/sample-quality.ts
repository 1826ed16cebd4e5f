/**
 * The gate's metric over a sample instead of the whole collection: the gate's queries are ranked
 * against the sampled rows only (exact search in memory), in each generation's own vector space,
 * and judged by the qrels restricted to the sampled rows. Only queries with a relevant row in the
 * sample count, so the value says how each model orders the rows it can see, and the drop between
 * live and candidate predicts the gate's verdict.
 */
import { dirname, resolve } from 'node:path'
import type { Metric, Profile, QualityGate } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import { readQrels, readQueries, type Query } from '../eval/formats.js'
import { type MetricSpec, type Qrels, formatMetric, meanJudged, parseMetricSpec } from '../eval/metrics.js'
import type { RowKey } from '../store/adapter.js'
import { closeness } from './neighbours.js'

/** Same slack as the gate itself, so a drop of exactly max_drop reads as a pass here too. */
const EPSILON = 1e-9

export interface SampleGatePreview {
  metric: string
  live: number
  candidate: number
  drop: number
  maxDrop: number
  /** unknown: no judged row was sampled, so the sample says nothing about the gate. */
  likely: 'pass' | 'fail' | 'unknown'
  /** Gate queries with at least one relevant row among the sampled ones. */
  queries: number
  /** Gate queries left out because none of their relevant rows was sampled. */
  skipped: number
}

export interface SpaceRows {
  keys: readonly RowKey[]
  vectors: readonly Float32Array[]
  metric: Metric
  encoder: Encoder
}

function restrictQrels(qrels: Qrels, keys: ReadonlySet<string>): Qrels {
  const out = new Map<string, Map<string, number>>()
  for (const [qid, judged] of qrels) {
    const kept = new Map([...judged].filter(([key, grade]) => grade > 0 && keys.has(key)))
    if (kept.size > 0) out.set(qid, kept)
  }
  return out
}

async function rank(space: SpaceRows, queries: readonly Query[], k: number): Promise<Map<string, string[]>> {
  const vectors = await space.encoder.encode(
    queries.map((q) => q.text),
    'query',
  )
  const out = new Map<string, string[]>()
  queries.forEach((q, i) => {
    const qv = vectors[i]!
    const scored = space.vectors.map((v, j) => ({ key: String(space.keys[j]), s: closeness(space.metric, qv, v) }))
    scored.sort((a, b) => b.s - a.s || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    out.set(
      q.id,
      scored.slice(0, k).map((x) => x.key),
    )
  })
  return out
}

/**
 * The gate's judged metric for live and candidate over the sample, or null when the gate has no
 * qrels (an overlap gate is previewed by the neighbour overlap instead).
 */
export async function previewGate(args: { gate: QualityGate; configFile: string; profile: Profile; live: SpaceRows; candidate: SpaceRows }): Promise<SampleGatePreview | null> {
  const { gate } = args
  if (!gate.qrels) return null
  const spec: MetricSpec = parseMetricSpec(gate.metric, { ...(args.profile.file ? { file: args.profile.file } : {}), path: `profiles.${args.profile.name}.gate.metric` })
  if (spec.name === 'overlap') return null
  const baseDir = dirname(args.configFile)
  const queries = await readQueries(resolve(baseDir, gate.queries))
  const qrels = restrictQrels(await readQrels(resolve(baseDir, gate.qrels)), new Set(args.candidate.keys.map(String)))
  const judged = queries.filter((q) => qrels.has(q.id))
  if (judged.length === 0) return { metric: formatMetric(spec), live: 0, candidate: 0, drop: 0, maxDrop: gate.maxDrop, likely: 'unknown', queries: 0, skipped: queries.length }
  const live = meanJudged({ name: spec.name, k: spec.k }, await rank(args.live, judged, spec.k), qrels).value
  const candidate = meanJudged({ name: spec.name, k: spec.k }, await rank(args.candidate, judged, spec.k), qrels).value
  const drop = live - candidate
  return { metric: formatMetric(spec), live, candidate, drop, maxDrop: gate.maxDrop, likely: drop <= gate.maxDrop + EPSILON ? 'pass' : 'fail', queries: judged.length, skipped: queries.length - judged.length }
}
