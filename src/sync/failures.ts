/**
 * Rows the encoder rejects (text its tokenizer refuses, an error on one input) must never block the
 * rest: a batch that fails is encoded again row by row, the rows that fail alone are recorded and
 * left out, and each is tried again after a delay that doubles per attempt. A row left out is not
 * written, so the store keeps it queued (stale or missing), and the next pass finds it again.
 */
import type { Encoder, TextKind } from '../encoder/types.js'
import type { Collection } from '../core/types.js'
import type { RowKey, StoreAdapter } from '../store/adapter.js'
import type { FailedRow } from './types.js'

export interface FailurePolicy {
  retryBaseMs: number
  maxRetryMs: number
  now?: () => number
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class FailedRows {
  private readonly rows = new Map<string, FailedRow>()
  /** Changes not yet in the store's failed-items record. */
  private readonly changed = new Set<string>()
  private readonly cleared = new Map<string, { generation: number; key: RowKey }>()
  private readonly now: () => number

  constructor(private readonly policy: FailurePolicy) {
    this.now = policy.now ?? Date.now
  }

  private id(generation: number, key: RowKey): string {
    return `${generation}\u0000${String(key)}`
  }

  /** Picks up the store's record, so backoff and attempts carry over from earlier runs. */
  async load(adapter: StoreAdapter, c: Collection): Promise<void> {
    for (const f of (await adapter.failedItems?.(c)) ?? []) this.rows.set(this.id(f.generation, f.key), f)
  }

  /** Writes what changed since the last flush into the store's failed-items record. */
  async flush(adapter: StoreAdapter, c: Collection): Promise<void> {
    if (!adapter.recordFailures || (this.changed.size === 0 && this.cleared.size === 0)) return
    const failed = [...this.changed].map((id) => this.rows.get(id)).filter((r): r is FailedRow => r !== undefined)
    await adapter.recordFailures(c, failed, [...this.cleared.values()])
    this.changed.clear()
    this.cleared.clear()
  }

  list(generation?: number): FailedRow[] {
    return [...this.rows.values()].filter((r) => generation === undefined || r.generation === generation)
  }

  /** Rows whose retry time has come, or that never failed. */
  due(generation: number, key: RowKey): boolean {
    const r = this.rows.get(this.id(generation, key))
    return !r || Date.parse(r.retryAt) <= this.now()
  }

  /** Milliseconds until the earliest retry of `generation`, undefined when nothing waits. */
  nextRetryIn(generation: number): number | undefined {
    const times = this.list(generation).map((r) => Date.parse(r.retryAt) - this.now())
    return times.length === 0 ? undefined : Math.max(0, Math.min(...times))
  }

  private record(generation: number, key: RowKey, err: unknown): void {
    const id = this.id(generation, key)
    const at = new Date(this.now()).toISOString()
    const prev = this.rows.get(id)
    const attempts = (prev?.attempts ?? 0) + 1
    const delay = Math.min(this.policy.maxRetryMs, this.policy.retryBaseMs * 2 ** (attempts - 1))
    this.changed.add(id)
    this.cleared.delete(id)
    this.rows.set(id, {
      generation,
      key,
      error: message(err),
      attempts,
      firstFailedAt: prev?.firstFailedAt ?? at,
      lastFailedAt: at,
      retryAt: new Date(this.now() + delay).toISOString(),
    })
  }

  private succeeded(generation: number, key: RowKey): void {
    const id = this.id(generation, key)
    if (!this.rows.delete(id)) return
    this.changed.delete(id)
    this.cleared.set(id, { generation, key })
  }

  /**
   * `encoder` for one generation with failing rows isolated. Rows waiting for their retry are
   * left out of the batch without being encoded.
   */
  isolating(encoder: Encoder, generation: number): Encoder {
    const encodeRows = async <T extends { text: string; key: RowKey }>(rows: T[], kind: TextKind): Promise<{ items: T[]; vectors: Float32Array[] }> => {
      const due = rows.filter((r) => this.due(generation, r.key))
      if (due.length === 0) return { items: [], vectors: [] }
      try {
        const vectors = await encoder.encode(due.map((r) => r.text), kind)
        for (const r of due) this.succeeded(generation, r.key)
        return { items: due, vectors }
      } catch (err) {
        if (due.length === 1) {
          this.record(generation, due[0]!.key, err)
          return { items: [], vectors: [] }
        }
      }
      // The batch failed as a whole: find the rows that fail alone.
      const items: T[] = []
      const vectors: Float32Array[] = []
      for (const r of due) {
        try {
          const [v] = await encoder.encode([r.text], kind)
          items.push(r)
          vectors.push(v as Float32Array)
          this.succeeded(generation, r.key)
        } catch (err) {
          this.record(generation, r.key, err)
        }
      }
      return { items, vectors }
    }
    return {
      dimensions: encoder.dimensions,
      provider: encoder.provider,
      encode: (texts, kind) => encoder.encode(texts, kind),
      async *encodeStream<T extends { text: string }>(batches: AsyncIterable<T[]>, kind: TextKind) {
        for await (const batch of batches) {
          const out = await encodeRows(batch as unknown as (T & { key: RowKey })[], kind)
          if (out.items.length > 0) yield out as unknown as { items: T[]; vectors: Float32Array[] }
        }
      },
      close: () => encoder.close(),
    }
  }
}
