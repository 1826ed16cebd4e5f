import type { Pooling } from '../core/types.js'

/**
 * One model output for a padded batch: `data` is [batch, seqLen, hidden] row-major, and row i
 * holds `lengths[i]` real tokens followed by padding (right padding only).
 */
export interface HiddenStates {
  data: Float32Array
  batch: number
  seqLen: number
  hidden: number
  lengths: ArrayLike<number>
}

/** Pools each row into one vector of `hidden` floats. Padding positions never contribute. */
export function pool(states: HiddenStates, pooling: Pooling): Float32Array[] {
  const { data, batch, seqLen, hidden, lengths } = states
  const out: Float32Array[] = []
  for (let b = 0; b < batch; b++) {
    const len = lengths[b] ?? 0
    const rowStart = b * seqLen * hidden
    const v = new Float32Array(hidden)
    if (pooling === 'cls') v.set(data.subarray(rowStart, rowStart + hidden))
    else if (pooling === 'last-token') {
      const at = rowStart + Math.max(len - 1, 0) * hidden
      v.set(data.subarray(at, at + hidden))
    } else {
      for (let t = 0; t < len; t++) {
        const at = rowStart + t * hidden
        for (let h = 0; h < hidden; h++) v[h] = (v[h] ?? 0) + (data[at + h] ?? 0)
      }
      // Same guard as sentence-transformers (clamp the token count to ≥ 1e-9): an empty row stays zero.
      const count = Math.max(len, 1e-9)
      for (let h = 0; h < hidden; h++) v[h] = (v[h] ?? 0) / count
    }
    out.push(v)
  }
  return out
}

/** L2-normalizes in place; a zero vector stays zero rather than becoming NaN. */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += (v[i] ?? 0) * (v[i] ?? 0)
  const norm = Math.sqrt(sum)
  if (norm === 0) return v
  for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm
  return v
}

/**
 * Matryoshka truncation: keep the first `dimensions` values. Models trained that way keep their
 * meaning in the prefix; the caller renormalizes when the profile asks for unit vectors.
 */
export function truncateDimensions(v: Float32Array, dimensions: number): Float32Array {
  return v.length <= dimensions ? v : v.slice(0, dimensions)
}

/** pooling → Matryoshka truncation → optional normalization, in the order the profile implies. */
export function finishVectors(pooled: Float32Array[], dimensions: number, normalize: boolean): Float32Array[] {
  return pooled.map((v) => {
    const cut = truncateDimensions(v, dimensions)
    return normalize ? l2Normalize(cut) : cut
  })
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    dot += x * y
    na += x * x
    nb += y * y
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}
