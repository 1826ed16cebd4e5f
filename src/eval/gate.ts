/**
 * The quality gate before cutover: the candidate generation must not score more than
 * `max_drop` below the live one on the gate's metric, over the gate's query set.
 *
 * Both generations are queried in their own vector space, so the live generation's model must
 * be known. For a generation adopted from existing vectors that means the collection declares
 * `adopted_profile`; without it the gate fails with an input error instead of passing blindly,
 * because no metric (judged or overlap) can compare against vectors whose query encoder is
 * unknown. `apply --skip-gate` is the explicit way past it.
 *
 * Gate files: config/ hands them over absolute (resolved against the profile that declares the
 * gate); a relative path from a library caller resolves against the config file's directory.
 */
import { dirname, resolve } from 'node:path'
import type { GateResult, GateRunner } from '../apply/types.js'
import { EmbedformError, inputError } from '../core/errors.js'
import type { Collection, Config, Profile, QualityGate } from '../core/types.js'
import type { GenerationState } from '../store/adapter.js'
import { type RankResult, generationProfile, metricSpecs, rankQueries, scoreRankings } from './evaluate.js'
import { readQrels, readQueries } from './formats.js'
import { type MetricSpec, formatMetric, parseMetricSpec } from './metrics.js'
import { fixed, renderTable, signed } from './table.js'

/** Floating-point slack so a drop of exactly max_drop passes however the sums rounded. */
const EPSILON = 1e-9

function gateLocation(candidate: GenerationState, key: string): { file?: string; path: string } {
  const snapshot = candidate.profileSnapshot
  return { ...(snapshot?.file ? { file: snapshot.file } : {}), path: `profiles.${candidate.profile ?? '?'}.gate.${key}` }
}

function liveProfile(live: GenerationState, collection: Collection, config: Config): Profile {
  try {
    return generationProfile(live, collection, config)
  } catch (e) {
    if (!(e instanceof EmbedformError)) throw e
    throw inputError('E_GATE_LIVE_MODEL_UNKNOWN', `the quality gate compares the candidate with live generation g${live.id}, but the model that made its vectors is unknown`, {
      location: e.location,
      hint: `declare \`adopted_profile: <profile>\` on collection "${collection.name}" so the gate can encode queries for the live vectors, or run \`embedform apply --skip-gate\``,
    })
  }
}

export interface GateComparison {
  spec: MetricSpec
  /** The gated metric's value for each generation. */
  gated: { live: number; candidate: number }
  rows: { metric: string; live: number; candidate: number }[]
  queries: number
}

export function renderGateReport(args: {
  collection: string
  live: GenerationState
  candidate: GenerationState
  comparison: GateComparison
  result: Omit<GateResult, 'report'>
}): string {
  const gated = formatMetric(args.comparison.spec)
  const name = (g: GenerationState): string => `g${g.id}${g.profile ? ` (${g.profile})` : ''}`
  const table = renderTable(
    ['metric', `live ${name(args.live)}`, `candidate ${name(args.candidate)}`, 'delta'],
    args.comparison.rows.map((r) => [r.metric === gated ? `${r.metric} *` : r.metric, fixed(r.live), fixed(r.candidate), signed(r.candidate - r.live)]),
    ['left', 'right', 'right', 'right'],
  )
  const { result } = args
  const verdict = result.passed
    ? `passed: ${gated} drop ${fixed(result.drop)} is within max_drop ${fixed(result.maxDrop)}`
    : `FAILED: ${gated} dropped ${fixed(result.drop)}, more than max_drop ${fixed(result.maxDrop)}; generation g${args.live.id} stays live`
  return [`quality gate for collection "${args.collection}" over ${args.comparison.queries} queries (* = gated metric)`, table, verdict].join('\n')
}

/** Scores both generations on the gate's metric and its siblings at the same cutoff. */
export async function compareGenerations(args: Parameters<GateRunner>[0]): Promise<GateComparison> {
  const { ctx, collection, adapter, liveGeneration, candidate, gate } = args
  const spec = parseMetricSpec(gate.metric, gateLocation(candidate, 'metric'))
  const baseDir = dirname(ctx.config.file)
  const queries = await readQueries(resolve(baseDir, gate.queries))
  const qrels = gate.qrels ? await readQrels(resolve(baseDir, gate.qrels)) : undefined
  if (spec.name !== 'overlap' && !qrels) {
    throw inputError('E_GATE_NO_QRELS', `the gate metric ${gate.metric} needs relevance judgements but the gate has no qrels file`, {
      location: gateLocation(candidate, 'qrels'),
      hint: `add \`qrels: path/to/qrels.tsv\` to the gate, or gate on overlap@${spec.k}`,
    })
  }
  const profiles = { live: liveProfile(liveGeneration, collection, ctx.config), candidate: generationProfile(candidate, collection, ctx.config) }
  const rank = (generation: number, profile: Profile): Promise<RankResult> =>
    rankQueries({
      adapter,
      collection,
      generation,
      profile,
      queries,
      k: spec.k,
      openEncoder: ctx.openEncoder,
      ...(ctx.encoderOptions ? { encoderOptions: ctx.encoderOptions } : {}),
    })
  const live = (await rank(liveGeneration.id, profiles.live)).rankings
  const cand = (await rank(candidate.id, profiles.candidate)).rankings
  const specs = [...(qrels ? metricSpecs(true, [spec.k]) : []), { name: 'overlap' as const, k: spec.k }]
  const source = { ...(qrels ? { qrels } : {}), reference: live }
  const rows = specs.map((s) => ({
    metric: formatMetric(s),
    live: scoreRankings(s, live, source).value,
    candidate: scoreRankings(s, cand, source).value,
  }))
  const gated = { live: scoreRankings(spec, live, source).value, candidate: scoreRankings(spec, cand, source).value }
  return { spec, gated, rows, queries: queries.length }
}

export function decideGate(comparison: GateComparison, gate: QualityGate): Omit<GateResult, 'report'> {
  const { live, candidate } = comparison.gated
  const drop = live - candidate
  return { passed: drop <= gate.maxDrop + EPSILON, metric: formatMetric(comparison.spec), live, candidate, drop, maxDrop: gate.maxDrop }
}

export const gateRunner: GateRunner = async (args) => {
  const comparison = await compareGenerations(args)
  const result = decideGate(comparison, args.gate)
  const report = renderGateReport({ collection: args.collection.name, live: args.liveGeneration, candidate: args.candidate, comparison, result })
  return { ...result, report }
}
