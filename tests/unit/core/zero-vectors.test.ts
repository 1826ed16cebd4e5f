import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { fingerprint, fingerprintInputs, stableJson } from '../../../src/core/fingerprint.js'
import { isZeroVector, zeroVectorPolicy } from '../../../src/core/zero-vectors.js'
import { makeProfile } from '../../helpers/profile.js'

describe('zero_vectors in the fingerprint', () => {
  it('keep leaves the fingerprint as it was before the setting existed', () => {
    const keep = makeProfile({ name: 'p', zeroVectors: 'keep' })
    expect(fingerprintInputs(keep).zeroVectors).toBeUndefined()
    // The inputs fingerprint() hashed before the setting existed, written out.
    const before = {
      model: keep.model.source,
      file: null,
      sha256: null,
      pooling: keep.pooling,
      normalize: keep.normalize,
      prefixes: keep.prefixes,
      maxTokens: keep.maxTokens,
      dimensions: keep.dimensions,
    }
    expect(fingerprint(keep)).toBe(createHash('sha256').update(stableJson(before)).digest('hex').slice(0, 16))
  })

  it('skip makes another fingerprint (a new generation), and nothing else about the profile does by it', () => {
    const keep = makeProfile({ name: 'p', zeroVectors: 'keep' })
    const skip = makeProfile({ name: 'p', zeroVectors: 'skip' })
    expect(fingerprint(skip)).not.toBe(fingerprint(keep))
    expect(fingerprintInputs(skip)).toEqual({ ...fingerprintInputs(keep), zeroVectors: 'skip' })
  })
})

describe('zero vector helpers', () => {
  it('tells an all-zero vector from one with any direction', () => {
    expect(isZeroVector(new Float32Array(4))).toBe(true)
    expect(isZeroVector(Float32Array.from([0, 0, -0, 0]))).toBe(true)
    expect(isZeroVector(Float32Array.from([0, 0, 1e-30, 0]))).toBe(false)
  })

  it('reads a generation snapshot without the setting (made before it existed) as keep', () => {
    expect(zeroVectorPolicy(null)).toBe('keep')
    expect(zeroVectorPolicy({})).toBe('keep')
    expect(zeroVectorPolicy({ zeroVectors: 'keep' })).toBe('keep')
    expect(zeroVectorPolicy({ zeroVectors: 'skip' })).toBe('skip')
  })
})
