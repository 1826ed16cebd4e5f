import type { AdapterCapabilities } from './adapter.js'

/** Rows per batch when neither the user nor the store chooses. */
export const DEFAULT_BATCH_ROWS = 1000

/** Vectors travel as float32 whatever the store keeps (halfvec converts on the server). */
const BYTES_PER_DIMENSION = 4

/**
 * Rows per read / encode / write batch: the user's `--batch-size`, else the store's own batch
 * (capabilities.batch) for vectors of `dimensions`, else DEFAULT_BATCH_ROWS.
 */
export function batchRows(chosen: number | undefined, caps: AdapterCapabilities, dimensions: number): number {
  if (chosen !== undefined) return chosen
  if (!caps.batch) return DEFAULT_BATCH_ROWS
  const byBytes = Math.floor(caps.batch.vectorBytes / (Math.max(1, dimensions) * BYTES_PER_DIMENSION))
  return Math.max(1, Math.min(caps.batch.rows, byBytes))
}
