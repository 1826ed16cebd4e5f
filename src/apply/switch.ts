/**
 * The switch of what readers see, shared by apply's cutover step and rollback: catch up until
 * what is left fits the hold, then let the adapter hold the application's writes, embed the rest
 * and switch atomically. `behind` (writes arrived faster than that) means another round.
 */
import { failure } from '../core/errors.js'
import type { Collection, ZeroVectorPolicy } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import type { CutoverResult, PendingRow, StoreAdapter, VectorRow } from '../store/adapter.js'
import { vectorRow } from './vector-rows.js'

/** Cutover attempts; each that finds more pending rows than it may embed while holding writes catches up again first. */
export const CUTOVER_ATTEMPTS = 20
/** How long a cutover may hold the application's writes to embed the last rows, by default. */
export const DEFAULT_MAX_HOLD_MS = 1000
/** Rows per second assumed for the first hold, before any pass was measured. */
const UNMEASURED_RATE = 200

export function embedder(encoder: Encoder, zeroVectors: ZeroVectorPolicy): (rows: PendingRow[]) => Promise<VectorRow[]> {
  return async (rows) => {
    const vectors = await encoder.encode(
      rows.map((r) => r.text),
      'document',
    )
    return rows.map((r, i) => vectorRow(r, vectors[i] as Float32Array, zeroVectors))
  }
}

export interface SwitchArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: number
  /** Undefined when the target's model cannot be loaded: only `acceptStale` can switch then. */
  encoder: Encoder | undefined
  /** The target generation's profile setting (vector-rows.ts). */
  zeroVectors: ZeroVectorPolicy
  maxHoldMs: number
  acceptStale: boolean
  /** Catch-up passes until at most `enough` rows were found; returns rows per second measured, if any. */
  catchUp: (enough: number) => Promise<number | undefined>
  onBehind: (attempt: number, pending: number, maxHeldRows: number) => void
}

/** Cutover attempts in a row whose pending count did not shrink before giving up. */
const STALLED_ATTEMPTS = 3

export async function switchGeneration(a: SwitchArgs): Promise<Extract<CutoverResult, { status: 'done' }>> {
  const embed = a.encoder ? embedder(a.encoder, a.zeroVectors) : undefined
  let rate: number | undefined
  let fewest = Number.POSITIVE_INFINITY
  let stalled = 0
  let attempts = 0
  let pending = 0
  while (attempts < CUTOVER_ATTEMPTS && stalled < STALLED_ATTEMPTS) {
    attempts++
    const heldRows = () => (embed ? Math.max(20, Math.round(((rate ?? UNMEASURED_RATE) * a.maxHoldMs) / 1000)) : 0)
    if (embed) rate = (await a.catchUp(Math.floor(heldRows() / 2))) ?? rate
    // Sized from the rate this attempt's catch-up just measured.
    const maxHeldRows = heldRows()
    const res = await a.adapter.cutover(a.collection, a.generation, { maxHeldRows, ...(embed ? { embed } : {}), ...(a.acceptStale ? { acceptStale: true } : {}) })
    if (res.status === 'done') return res
    pending = res.pending
    a.onBehind(attempts, res.pending, maxHeldRows)
    if (!embed) break
    stalled = res.pending < fewest ? 0 : stalled + 1
    fewest = Math.min(fewest, res.pending)
  }
  // What the hold would have to be to embed what was pending at the last attempt, at the rate catch-up reached.
  const neededMs = rate ? Math.ceil((pending / rate) * 1000) : undefined
  throw failure(
    'E_CATCHUP_OUTPACED',
    `writes to ${a.collection.target} change rows as fast as catch-up embeds them into g${a.generation}: ${pending} rows still pending after ${attempts} cutover attempts` +
      (rate ? ` (catch-up embedded ${Math.round(rate)} rows/s)` : ''),
    {
      location: { object: `generation g${a.generation} of ${a.collection.target}` },
      hint:
        'nothing readers see changed and the work done is kept; ' +
        (neededMs && neededMs > a.maxHoldMs
          ? `holding writes for about ${neededMs} ms would let the cutover embed the rest (--max-hold-ms ${neededMs}), or `
          : 'allow a longer hold with --max-hold-ms, or ') +
        'run `embedform apply` again when writes slow down; a faster encoder (device, batch size) or a cheaper index (m, ef_construction) raise the catch-up rate',
    },
  )
}
