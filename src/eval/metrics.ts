/**
 * Retrieval metrics over ranked keys and graded judgements.
 *
 * Conventions (the same ones pytrec_eval/BEIR use, so numbers are comparable with published ones):
 * - Ranking order is decided by `rankHits`: score descending, then key ascending (numerically when
 *   both keys are integers, else by string), so two runs over the same store give the same numbers
 *   even when scores tie.
 * - A document without a judgement counts as non-relevant (relevance 0). Relevance ≤ 0 is
 *   non-relevant; > 0 is relevant for Recall, MRR and MAP.
 * - NDCG uses linear gains (gain = relevance) with a log2(rank + 1) discount; the ideal DCG is
 *   computed from the query's judged relevances, not from the retrieved list, so a relevant
 *   document the store did not return still lowers NDCG.
 * - MAP@k divides by the number of relevant documents (not by min(k, relevant)), as trec_eval's
 *   map_cut does.
 * - A query with no relevant judgement has no defined NDCG/Recall/MAP: it is excluded from the
 *   mean (and counted in `skipped`) rather than dragging the mean towards 0.
 */
import { inputError } from '../core/errors.js'
import type { Hit } from '../store/adapter.js'

/** Relevance of each judged document of one query, keyed by document key as a string. */
export type Judgements = ReadonlyMap<string, number>
/** Judgements per query id. */
export type Qrels = ReadonlyMap<string, Judgements>

export type MetricName = 'ndcg' | 'recall' | 'mrr' | 'map' | 'overlap'
export const METRIC_NAMES: readonly MetricName[] = ['ndcg', 'recall', 'mrr', 'map', 'overlap']

export interface MetricSpec {
  name: MetricName
  k: number
}

/** Sorts hits by score descending, ties by key ascending (see compareKeys), and returns their keys as strings. */
export function rankHits(hits: readonly Pick<Hit, 'key' | 'score'>[]): string[] {
  return [...hits]
    .map((h) => ({ key: String(h.key), score: h.score }))
    .sort((a, b) => b.score - a.score || compareKeys(a.key, b.key))
    .map((h) => h.key)
}

const INTEGER = /^-?\d+$/

/** Integer keys (pg int8 keys arrive as strings) compare as numbers, anything else as strings. */
export function compareKeys(a: string, b: string): number {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    const x = BigInt(a)
    const y = BigInt(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
  return a < b ? -1 : a > b ? 1 : 0
}

function relevanceAt(judged: Judgements, key: string): number {
  return Math.max(0, judged.get(key) ?? 0)
}

function relevantCount(judged: Judgements): number {
  let n = 0
  for (const rel of judged.values()) if (rel > 0) n++
  return n
}

export function dcgAt(gains: readonly number[], k: number): number {
  let dcg = 0
  for (let i = 0; i < Math.min(k, gains.length); i++) dcg += (gains[i] ?? 0) / Math.log2(i + 2)
  return dcg
}

export function ndcgAt(ranking: readonly string[], judged: Judgements, k: number): number {
  const ideal = [...judged.values()].filter((r) => r > 0).sort((a, b) => b - a)
  const idcg = dcgAt(ideal, k)
  if (idcg === 0) return 0
  return dcgAt(ranking.slice(0, k).map((key) => relevanceAt(judged, key)), k) / idcg
}

export function recallAt(ranking: readonly string[], judged: Judgements, k: number): number {
  const total = relevantCount(judged)
  if (total === 0) return 0
  return ranking.slice(0, k).filter((key) => relevanceAt(judged, key) > 0).length / total
}

export function reciprocalRankAt(ranking: readonly string[], judged: Judgements, k: number): number {
  const i = ranking.slice(0, k).findIndex((key) => relevanceAt(judged, key) > 0)
  return i === -1 ? 0 : 1 / (i + 1)
}

export function averagePrecisionAt(ranking: readonly string[], judged: Judgements, k: number): number {
  const total = relevantCount(judged)
  if (total === 0) return 0
  let found = 0
  let sum = 0
  ranking.slice(0, k).forEach((key, i) => {
    if (relevanceAt(judged, key) > 0) {
      found++
      sum += found / (i + 1)
    }
  })
  return sum / total
}

/**
 * Share of the reference top-k that `ranking` also has in its top-k. Divides by the longer of
 * the two top-k lists (not by k) so identical lists from a collection with fewer than k rows
 * still score 1; two empty lists are identical and score 1.
 */
export function overlapAt(ranking: readonly string[], reference: readonly string[], k: number): number {
  const a = new Set(ranking.slice(0, k))
  const b = new Set(reference.slice(0, k))
  const size = Math.max(a.size, b.size)
  if (size === 0) return 1
  let shared = 0
  for (const key of a) if (b.has(key)) shared++
  return shared / size
}

export interface MetricSummary {
  /** Mean over the queries the metric is defined for. */
  value: number
  /** Queries the mean is over. */
  queries: number
  /** Queries left out: no relevant judgement (judged metrics) or no reference ranking (overlap). */
  skipped: number
}

export type JudgedMetricName = Exclude<MetricName, 'overlap'>

const judgedMetric: Record<JudgedMetricName, (r: readonly string[], j: Judgements, k: number) => number> = {
  ndcg: ndcgAt,
  recall: recallAt,
  mrr: reciprocalRankAt,
  map: averagePrecisionAt,
}

/** Mean of a judged metric over every query in `rankings` that has a relevant judgement. */
export function meanJudged(spec: { name: JudgedMetricName; k: number }, rankings: ReadonlyMap<string, readonly string[]>, qrels: Qrels): MetricSummary {
  const fn = judgedMetric[spec.name]
  let sum = 0
  let queries = 0
  let skipped = 0
  for (const [qid, ranking] of rankings) {
    const judged = qrels.get(qid)
    if (!judged || relevantCount(judged) === 0) {
      skipped++
      continue
    }
    sum += fn(ranking, judged, spec.k)
    queries++
  }
  return { value: queries === 0 ? 0 : sum / queries, queries, skipped }
}

/** Mean overlap@k of `rankings` against `reference` rankings of the same queries. */
export function meanOverlap(k: number, rankings: ReadonlyMap<string, readonly string[]>, reference: ReadonlyMap<string, readonly string[]>): MetricSummary {
  let sum = 0
  let queries = 0
  let skipped = 0
  for (const [qid, ranking] of rankings) {
    const ref = reference.get(qid)
    if (!ref) {
      skipped++
      continue
    }
    sum += overlapAt(ranking, ref, k)
    queries++
  }
  return { value: queries === 0 ? 0 : sum / queries, queries, skipped }
}

export function formatMetric(spec: MetricSpec): string {
  return `${spec.name}@${spec.k}`
}

/** Parses `ndcg@10` (as in a profile's gate.metric or a flag); `where` names the source for errors. */
export function parseMetricSpec(text: string, where: { file?: string; path?: string } = {}): MetricSpec {
  const m = /^\s*([a-z]+)\s*@\s*(\d+)\s*$/i.exec(text)
  const name = m?.[1]?.toLowerCase()
  const k = Number(m?.[2])
  if (!m || !name || !(METRIC_NAMES as readonly string[]).includes(name) || !Number.isInteger(k) || k < 1) {
    throw inputError('E_METRIC', `"${text}" is not a metric: expected NAME@K with NAME one of ${METRIC_NAMES.join(', ')} and K ≥ 1`, {
      location: where,
      hint: 'for example ndcg@10, recall@20, mrr@10, map@10, overlap@10',
    })
  }
  return { name: name as MetricName, k }
}

/** Parses `-k 10,20` into distinct cutoffs in ascending order. */
export function parseCutoffs(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  const ks = parts.map(Number)
  if (parts.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw inputError('E_CUTOFFS', `"${text}" is not a list of cutoffs: expected positive integers separated by commas`, {
      location: { path: '-k' },
      hint: 'for example -k 10 or -k 10,20',
    })
  }
  return [...new Set(ks)].sort((a, b) => a - b)
}
