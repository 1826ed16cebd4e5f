/**
 * Progress at the pace of the encoder, not of the store: a store page holds thousands of rows and an
 * encoder batch `batch_size` (32), so counting pages leaves a slow model's bar still for minutes.
 * The wrapper hands the encoder one batch at a time and reports each as it comes out; the pump
 * still receives whole pages, in order, so reads and writes stay page-sized.
 */
import type { Encoder, TextKind } from '../encoder/types.js'

/**
 * `onBatch(rows)` after each encoder batch. A page's rows are batched by text length (as the
 * encoder's own planner would) so that splitting it adds little padding; the page comes back in
 * its own order.
 */
export function withBatchProgress(encoder: Encoder, batchSize: number, onBatch: (rows: number) => void): Encoder {
  const size = Math.max(1, Math.floor(batchSize))
  return {
    get dimensions() {
      return encoder.dimensions
    },
    get provider() {
      return encoder.provider
    },
    encode: (texts, kind) => encoder.encode(texts, kind),
    close: () => encoder.close(),
    async *encodeStream<T extends { text: string }>(pages: AsyncIterable<T[]>, kind: TextKind): AsyncIterable<{ items: T[]; vectors: Float32Array[] }> {
      /** Pages read but not yet given back, oldest first; the encoder reads one batch ahead. */
      const open: { items: T[]; vectors: (Float32Array | undefined)[]; left: number }[] = []
      async function* batches(): AsyncIterable<{ text: string; page: (typeof open)[number]; at: number }[]> {
        for await (const items of pages) {
          const page = { items, vectors: new Array<Float32Array | undefined>(items.length), left: items.length }
          open.push(page)
          const order = items.map((_, i) => i).sort((a, b) => items[a]!.text.length - items[b]!.text.length)
          for (let i = 0; i < order.length; i += size) yield order.slice(i, i + size).map((at) => ({ text: items[at]!.text, page, at }))
        }
      }
      for await (const { items, vectors } of encoder.encodeStream(batches(), kind)) {
        items.forEach((item, k) => {
          item.page.vectors[item.at] = vectors[k]
          item.page.left--
        })
        onBatch(items.length)
        while (open.length > 0 && open[0]!.left === 0) {
          const page = open.shift()!
          yield { items: page.items, vectors: page.vectors as Float32Array[] }
        }
      }
      // Pages without rows never reach the encoder; they are still given back, in order.
      for (const page of open.splice(0)) yield { items: page.items, vectors: page.vectors as Float32Array[] }
    },
  }
}
