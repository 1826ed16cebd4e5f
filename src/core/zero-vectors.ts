import type { ZeroVectorPolicy } from './types.js'

/** Empty or out-of-vocabulary text encodes to this: no direction, so no cosine query finds it. */
export function isZeroVector(v: Float32Array): boolean {
  for (const x of v) if (x !== 0) return false
  return true
}

/**
 * The zero_vectors setting of a generation, from the profile snapshot stored with it.
 * Generations made before the setting existed have none: they stored zeros, so they keep doing so.
 */
export function zeroVectorPolicy(profile: { zeroVectors?: ZeroVectorPolicy } | null | undefined): ZeroVectorPolicy {
  return profile?.zeroVectors === 'skip' ? 'skip' : 'keep'
}
