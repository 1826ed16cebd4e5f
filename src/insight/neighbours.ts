/**
 * Label-free comparison of two vector spaces over the same rows: for each row, its k nearest
 * other rows in each space, and how many of them both spaces agree on. Exact (brute force), so
 * the number says how the models differ, never how an approximate index behaved.
 */
import type { Metric } from '../core/types.js'

/** Higher is closer, whatever the metric. */
export function closeness(metric: Metric, a: Float32Array, b: Float32Array): number {
  let dot = 0
  let na = 0
  let nb = 0
  let l2 = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i] ?? 0
    dot += x * y
    na += x * x
    nb += y * y
    l2 += (x - y) ** 2
  }
  if (metric === 'ip') return dot
  if (metric === 'l2') return -Math.sqrt(l2)
  const norms = Math.sqrt(na) * Math.sqrt(nb)
  return norms === 0 ? 0 : dot / norms
}

export function cosine(a: Float32Array, b: Float32Array): number {
  return closeness('cosine', a, b)
}

/** Indices of the k rows closest to each row, itself excluded; ties go to the lower index so the result is deterministic. */
export function nearestWithin(vectors: readonly Float32Array[], metric: Metric, k: number): number[][] {
  return vectors.map((v, i) => {
    const scored: { j: number; s: number }[] = []
    vectors.forEach((w, j) => {
      if (j !== i) scored.push({ j, s: closeness(metric, v, w) })
    })
    scored.sort((x, y) => y.s - x.s || x.j - y.j)
    return scored.slice(0, k).map((x) => x.j)
  })
}

export interface NeighbourOverlap {
  k: number
  /** Mean share of each row's k neighbours both spaces agree on, 0..1. */
  overlap: number
  rows: number
}

/**
 * Mean overlap@k of each row's neighbours in space A and space B (same rows, same order). Each
 * space is searched with its own metric, as the store would.
 */
export function neighbourOverlap(a: { vectors: readonly Float32Array[]; metric: Metric }, b: { vectors: readonly Float32Array[]; metric: Metric }, k: number): NeighbourOverlap {
  const n = Math.min(a.vectors.length, b.vectors.length)
  const kk = Math.min(k, n - 1)
  if (kk <= 0) return { k, overlap: 1, rows: n }
  const na = nearestWithin(a.vectors.slice(0, n), a.metric, kk)
  const nb = nearestWithin(b.vectors.slice(0, n), b.metric, kk)
  let sum = 0
  for (let i = 0; i < n; i++) {
    const set = new Set(na[i])
    sum += nb[i]!.filter((j) => set.has(j)).length / kk
  }
  return { k: kk, overlap: sum / n, rows: n }
}
