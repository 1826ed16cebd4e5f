import type { Tokens } from './text-tokenizer.js'

/**
 * How texts are grouped into session.run calls: at most `maxBatch` texts, and at most `tokenBudget`
 * padded tokens (texts × the longest text of the batch), like text-embeddings-inference's
 * max-batch-tokens. A text longer than the budget still gets a batch of its own.
 */
export interface BatchLimits {
  maxBatch: number
  tokenBudget: number
}

/**
 * Indices of the texts in each batch: sorted by token length so a batch pads only to its own
 * longest text (dynamic padding), then cut by count and token budget. Short texts share large
 * batches; long ones get small batches whose attention matrices stay cache-sized. The caller puts
 * results back with `restoreOrder`.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => (lengths[a] ?? 0) - (lengths[b] ?? 0) || a - b)
  const maxBatch = Math.max(1, limits.maxBatch)
  const batches: number[][] = []
  let current: number[] = []
  for (const i of order) {
    // Ascending order: the text being added is the longest, so it sets the padded width.
    const padded = (current.length + 1) * (lengths[i] ?? 0)
    if (current.length > 0 && (current.length >= maxBatch || padded > limits.tokenBudget)) {
      batches.push(current)
      current = []
    }
    current.push(i)
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/** Real and padded tokens of a plan: waste = 1 − real / padded. */
export function paddingOf(lengths: readonly number[], plan: readonly number[][]): { realTokens: number; paddedTokens: number } {
  let realTokens = 0
  let paddedTokens = 0
  for (const batch of plan) {
    let longest = 0
    for (const i of batch) {
      const n = lengths[i] ?? 0
      realTokens += n
      longest = Math.max(longest, n)
    }
    paddedTokens += longest * batch.length
  }
  return { realTokens, paddedTokens }
}

/** Puts per-batch results back at the original positions of their inputs. */
export function restoreOrder<T>(batches: readonly number[][], results: readonly T[][], total: number): T[] {
  const out = new Array<T>(total)
  batches.forEach((indices, b) => {
    const values = results[b] ?? []
    indices.forEach((original, k) => {
      out[original] = values[k] as T
    })
  })
  return out
}

/** One padded batch as the model sees it; the arrays are views into reusable buffers. */
export interface PaddedBatch {
  batch: number
  seqLen: number
  inputIds: BigInt64Array
  attentionMask: BigInt64Array
  tokenTypeIds: BigInt64Array
  lengths: Int32Array
}

/**
 * Input buffers sized for the largest batch seen so far and reused across batches, so steady-state
 * encoding allocates no input memory. One instance belongs to one call at a time (see BufferPool):
 * a session may still be reading it, so it must never be refilled by another caller.
 */
export class BatchBuffers {
  private ids = new BigInt64Array(0)
  private mask = new BigInt64Array(0)
  private types = new BigInt64Array(0)
  private lens = new Int32Array(0)

  fill(rows: readonly Tokens[], padId: number): PaddedBatch {
    const batch = rows.length
    let seqLen = 1
    for (const r of rows) seqLen = Math.max(seqLen, r.ids.length)
    const size = batch * seqLen
    if (this.ids.length < size) {
      this.ids = new BigInt64Array(size)
      this.mask = new BigInt64Array(size)
      this.types = new BigInt64Array(size)
    }
    if (this.lens.length < batch) this.lens = new Int32Array(batch)
    const ids = this.ids.subarray(0, size)
    const mask = this.mask.subarray(0, size)
    const types = this.types.subarray(0, size)
    const pad = BigInt(padId)
    ids.fill(pad)
    mask.fill(0n)
    types.fill(0n)
    rows.forEach((r, b) => {
      const at = b * seqLen
      for (let t = 0; t < r.ids.length; t++) {
        ids[at + t] = BigInt(r.ids[t] ?? padId)
        mask[at + t] = 1n
        if (r.typeIds) types[at + t] = BigInt(r.typeIds[t] ?? 0)
      }
      this.lens[b] = r.ids.length
    })
    return { batch, seqLen, inputIds: ids, attentionMask: mask, tokenTypeIds: types, lengths: this.lens.subarray(0, batch) }
  }
}

/**
 * Free BatchBuffers shared by the calls of one encoder. A call takes what it needs for its whole
 * run and gives them back when its last session.run has returned, so concurrent calls never share
 * a buffer, while one caller at a time reuses the same memory and allocates nothing.
 */
export class BufferPool {
  private readonly free: BatchBuffers[] = []

  acquire(): BatchBuffers {
    return this.free.pop() ?? new BatchBuffers()
  }

  release(...buffers: BatchBuffers[]): void {
    this.free.push(...buffers)
  }

  /** Buffers currently idle in the pool (for tests and metrics). */
  get idle(): number {
    return this.free.length
  }
}
