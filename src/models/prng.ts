/**
 * Seeded randomness for synthetic weights. Only integer arithmetic and + − × on doubles, so the
 * same seed gives bit-identical weights on every machine (Math.log/Math.cos are not guaranteed to).
 */

/** The seed builtins use unless told otherwise. */
export const DEFAULT_SEED = 42

/** mulberry32: 32-bit state, uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SQRT3 = Math.sqrt(3)

/** Normal-ish N(0, std²): Irwin–Hall sum of four uniforms, centred and scaled to unit variance. */
export function normalFill(out: Float32Array, std: number, uniform: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const s = uniform() + uniform() + uniform() + uniform() - 2
    out[i] = s * SQRT3 * std
  }
  return out
}
