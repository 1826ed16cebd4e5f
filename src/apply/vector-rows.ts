/**
 * Where encoder output becomes what a store is asked to write. The generation's profile decides
 * what an all-zero vector (empty or out-of-vocabulary text) becomes: stored as it is (keep), or
 * no vector with the text hash still recorded (skip), which stores see as `vector: null`.
 */
import type { ZeroVectorPolicy } from '../core/types.js'
import { isZeroVector } from '../core/zero-vectors.js'
import type { PendingRow, VectorRow } from '../store/adapter.js'

export function vectorRow(row: PendingRow, vector: Float32Array, zeroVectors: ZeroVectorPolicy): VectorRow {
  return {
    key: row.key,
    vector: zeroVectors === 'skip' && isZeroVector(vector) ? null : vector,
    ...(row.version === undefined ? {} : { version: row.version }),
    ...(row.token === undefined ? {} : { token: row.token }),
  }
}
