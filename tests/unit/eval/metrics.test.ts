import { describe, expect, it } from 'vitest'
import {
  averagePrecisionAt,
  meanJudged,
  meanOverlap,
  ndcgAt,
  overlapAt,
  parseCutoffs,
  parseMetricSpec,
  rankHits,
  recallAt,
  reciprocalRankAt,
} from '../../../src/eval/metrics.js'
import { EmbedformError } from '../../../src/core/errors.js'

// b and d are retrieved and relevant; e is relevant but never retrieved; a and c are unjudged.
const judged = new Map([
  ['b', 2],
  ['d', 1],
  ['e', 3],
])
const ranking = ['a', 'b', 'c', 'd']

describe('ranking order', () => {
  it('sorts by score descending, then key ascending: numerically for integer keys, else as strings', () => {
    const hits = [
      { key: 'b', score: 0.5 },
      { key: 'a', score: 0.5 },
      { key: 'c', score: 0.9 },
      { key: '10', score: 0.1 },
      { key: 9, score: 0.1 },
      { key: 'x9', score: 0 },
      { key: 'x10', score: 0 },
    ]
    expect(rankHits(hits)).toEqual(['c', 'a', 'b', '9', '10', 'x10', 'x9'])
  })

  it('gives the same metrics whatever order tied hits arrive in', () => {
    const tied = new Map([['x', 1]])
    const one = rankHits([{ key: 'y', score: 1 }, { key: 'x', score: 1 }])
    const two = rankHits([{ key: 'x', score: 1 }, { key: 'y', score: 1 }])
    expect(ndcgAt(one, tied, 2)).toBe(ndcgAt(two, tied, 2))
    expect(reciprocalRankAt(one, tied, 2)).toBe(1)
  })
})

describe('judged metrics against hand-computed values', () => {
  it('NDCG@3 uses linear gains, log2 discount and the ideal order of all judged documents', () => {
    // DCG = 2/log2(3); IDCG = 3/1 + 2/log2(3) + 1/2 (from judged relevances 3, 2, 1).
    expect(ndcgAt(ranking, judged, 3)).toBeCloseTo(1.2618595 / 4.7618595, 6)
    expect(ndcgAt(ranking, judged, 3)).toBeCloseTo(0.264994, 5)
  })

  it('NDCG is 1 for the ideal ranking and 0 with nothing relevant retrieved', () => {
    expect(ndcgAt(['e', 'b', 'd'], judged, 3)).toBeCloseTo(1, 10)
    expect(ndcgAt(['a', 'c'], judged, 10)).toBe(0)
  })

  it('Recall@k divides by every relevant document, retrieved or not', () => {
    expect(recallAt(ranking, judged, 3)).toBeCloseTo(1 / 3, 10)
    expect(recallAt(ranking, judged, 4)).toBeCloseTo(2 / 3, 10)
  })

  it('MRR@k is the reciprocal rank of the first relevant document within k', () => {
    expect(reciprocalRankAt(ranking, judged, 3)).toBe(0.5)
    expect(reciprocalRankAt(ranking, judged, 1)).toBe(0)
  })

  it('MAP@k averages precision at relevant ranks over all relevant documents', () => {
    // relevant at rank 2 (P = 1/2) and rank 4 (P = 2/4); 3 relevant in total.
    expect(averagePrecisionAt(ranking, judged, 4)).toBeCloseTo((0.5 + 0.5) / 3, 10)
    expect(averagePrecisionAt(ranking, judged, 2)).toBeCloseTo(0.5 / 3, 10)
  })

  it('treats unjudged and zero or negative judgements as non-relevant', () => {
    const withZeros = new Map([
      ['a', 0],
      ['c', -1],
      ['b', 2],
      ['d', 1],
      ['e', 3],
    ])
    expect(ndcgAt(ranking, withZeros, 3)).toBeCloseTo(ndcgAt(ranking, judged, 3), 12)
    expect(recallAt(ranking, withZeros, 4)).toBeCloseTo(2 / 3, 10)
  })
})

describe('means over queries', () => {
  const rankings = new Map([
    ['q1', ['x', 'y']],
    ['q2', ['x']],
    ['q3', ['y']],
  ])
  const qrels = new Map([
    ['q1', new Map([['y', 1]])],
    ['q2', new Map([['x', 0]])],
  ])

  it('excludes queries without any relevant judgement from the mean and counts them as skipped', () => {
    expect(meanJudged({ name: 'mrr', k: 10 }, rankings, qrels)).toEqual({ value: 0.5, queries: 1, skipped: 2 })
    expect(meanJudged({ name: 'recall', k: 1 }, rankings, qrels)).toEqual({ value: 0, queries: 1, skipped: 2 })
  })

  it('averages overlap over the queries the reference ranked', () => {
    const reference = new Map([
      ['q1', ['y', 'x']],
      ['q2', ['z']],
    ])
    expect(meanOverlap(2, rankings, reference)).toEqual({ value: 0.5, queries: 2, skipped: 1 })
  })
})

describe('overlap@k', () => {
  it('shares of the top k in common', () => {
    expect(overlapAt(['a', 'b', 'c'], ['b', 'c', 'd'], 3)).toBeCloseTo(2 / 3, 10)
    expect(overlapAt(['a', 'b', 'c'], ['b', 'c', 'd'], 1)).toBe(0)
  })

  it('is 1 for identical lists shorter than k, and for two empty lists', () => {
    expect(overlapAt(['a'], ['a'], 10)).toBe(1)
    expect(overlapAt([], [], 10)).toBe(1)
    expect(overlapAt(['a', 'b'], ['a'], 10)).toBe(0.5)
  })
})

describe('parsing metric names and cutoffs', () => {
  it('parses NAME@K case-insensitively', () => {
    expect(parseMetricSpec('NDCG@10')).toEqual({ name: 'ndcg', k: 10 })
    expect(parseMetricSpec(' overlap @ 5 ')).toEqual({ name: 'overlap', k: 5 })
  })

  it('rejects unknown metrics and bad cutoffs with an input error naming the key', () => {
    for (const bad of ['precision@10', 'ndcg', 'ndcg@0', 'ndcg@x']) {
      const err = (() => {
        try {
          parseMetricSpec(bad, { path: 'profiles.fast.gate.metric' })
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(EmbedformError)
      expect((err as EmbedformError).exitCode).toBe(2)
      expect((err as EmbedformError).location?.path).toBe('profiles.fast.gate.metric')
    }
  })

  it('parses -k lists into sorted distinct cutoffs', () => {
    expect(parseCutoffs('20,10,10')).toEqual([10, 20])
    expect(() => parseCutoffs('10,')).toThrow(EmbedformError)
    expect(() => parseCutoffs('0')).toThrow(/cutoffs/)
  })
})
