/**
 * Cross-request dynamic batching for one encoder. Requests queue their texts; a single consumer
 * takes as many queued texts of one kind as fit a token budget (text-embeddings-inference's
 * max-batch-tokens), encodes them in ONE encode call, and hands each request its vectors. The
 * budget counts padded tokens (texts × the longest one), because the encoder pads each batch to
 * its longest text: one 500-token outlier among short queries costs 500 tokens per text. While
 * a batch runs, new requests queue up and form the next batch, so 64 clients sending one text
 * each cost a few encode calls instead of 64. There is never more than one encode call in flight
 * on the encoder, whatever the number of concurrent requests.
 */
import type { TextKind } from '../encoder/types.js'
import { ApiError } from './api-error.js'

export type EncodeTexts = (texts: string[], kind: TextKind) => Promise<Float32Array[]>

export interface BatcherOptions {
  /** false: every encode call holds the texts of one request only. */
  crossRequest: boolean
  maxBatchTokens: number
  maxQueuedTexts: number
}

export interface BatchStats {
  texts: number
  tokens: number
  requests: number
  seconds: number
}

interface Waiting {
  texts: readonly string[]
  tokens: readonly number[]
  kind: TextKind
  /** Next text not yet taken into a batch. */
  next: number
  /** Texts whose vectors are still outstanding. */
  outstanding: number
  vectors: Float32Array[]
  settled: boolean
  resolve(vectors: Float32Array[]): void
  reject(e: unknown): void
}

interface Slice {
  entry: Waiting
  from: number
  to: number
}

/** Texts per second above which Retry-After rounds down to its floor of one second. */
const INITIAL_RATE = 100

export class EncodeBatcher {
  private queue: Waiting[] = []
  private queuedTexts = 0
  private running = false
  private idleWaiters: (() => void)[] = []
  /** Exponentially weighted texts/s of recent batches, for Retry-After. */
  private rate = INITIAL_RATE

  constructor(
    private readonly encode: EncodeTexts,
    private readonly opts: BatcherOptions,
    private readonly onBatch: (s: BatchStats) => void = () => undefined,
  ) {}

  /** Texts waiting for a batch (not counting the batch being encoded). */
  get depth(): number {
    return this.queuedTexts
  }

  /**
   * Queues one request's texts (`tokens[i]` is text i's token count after truncation) and resolves
   * with their vectors in order. Rejects at once with a 429 when the queue cannot take them, and
   * with the signal's reason when it aborts first (texts not yet batched leave the queue).
   */
  submit(texts: readonly string[], tokens: readonly number[], kind: TextKind, signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([])
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.queuedTexts + texts.length > this.opts.maxQueuedTexts) {
      return Promise.reject(
        new ApiError(
          429,
          'rate_limit_error',
          `the encode queue is full (${this.queuedTexts} texts waiting, limit ${this.opts.maxQueuedTexts}); retry after ${this.retryAfterSeconds()} s`,
          null,
          'queue_full',
          this.retryAfterSeconds(),
        ),
      )
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      const entry: Waiting = { texts, tokens, kind, next: 0, outstanding: texts.length, vectors: new Array(texts.length), settled: false, resolve, reject }
      const onAbort = () => this.cancel(entry, signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = () => signal?.removeEventListener('abort', onAbort)
      entry.resolve = (v) => (cleanup(), resolve(v))
      entry.reject = (e) => (cleanup(), reject(e))
      this.queue.push(entry)
      this.queuedTexts += texts.length
      if (!this.running) {
        this.running = true
        void this.consume()
      }
    })
  }

  /** Seconds until the current queue has likely been worked off at the recent rate. */
  private retryAfterSeconds(): number {
    return Math.min(60, Math.max(1, Math.ceil(this.queuedTexts / this.rate)))
  }

  /** Resolves once nothing is queued or being encoded. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private cancel(entry: Waiting, reason: unknown): void {
    if (entry.settled) return
    this.queuedTexts -= entry.texts.length - entry.next
    entry.next = entry.texts.length
    this.queue = this.queue.filter((e) => e !== entry)
    this.settle(entry, reason)
  }

  private settle(entry: Waiting, error?: unknown): void {
    if (entry.settled) return
    entry.settled = true
    if (error === undefined) entry.resolve(entry.vectors)
    else entry.reject(error)
  }

  /** The next batch: texts of the head request's kind, in arrival order, within the token budget. */
  private take(): { kind: TextKind; slices: Slice[] } | undefined {
    const head = this.queue[0]
    if (!head) return undefined
    const kind = head.kind
    const slices: Slice[] = []
    let longest = 0
    let taken = 0
    const fits = (tokens: number) => (taken + 1) * Math.max(longest, tokens) <= this.opts.maxBatchTokens
    for (const entry of this.opts.crossRequest ? this.queue : [head]) {
      if (entry.kind !== kind) continue
      const from = entry.next
      let to = from
      // At least one text per batch, however long: a single text over budget still gets encoded.
      while (to < entry.texts.length && (taken === 0 || fits(entry.tokens[to] ?? 0))) {
        longest = Math.max(longest, entry.tokens[to] ?? 0)
        to++
        taken++
      }
      if (to > from) {
        slices.push({ entry, from, to })
        entry.next = to
      }
      if (to < entry.texts.length) break
    }
    this.queuedTexts -= taken
    this.queue = this.queue.filter((e) => e.next < e.texts.length)
    return { kind, slices }
  }

  private async consume(): Promise<void> {
    try {
      for (;;) {
        // Requests whose bytes arrived during the last batch may still be unread on their sockets
        // (always, when the encoder runs on this thread: onnxruntime-node's session.run blocks it):
        // one turn of the event loop lets them queue up and join this batch.
        await new Promise((resolve) => setImmediate(resolve))
        const batch = this.take()
        if (!batch) break
        await this.run(batch.kind, batch.slices)
      }
    } finally {
      this.running = false
      for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  private async run(kind: TextKind, slices: Slice[]): Promise<void> {
    const texts: string[] = []
    let tokens = 0
    for (const s of slices) {
      for (let i = s.from; i < s.to; i++) {
        texts.push(s.entry.texts[i] as string)
        tokens += s.entry.tokens[i] ?? 0
      }
    }
    const started = performance.now()
    let vectors: Float32Array[]
    try {
      vectors = await this.encode(texts, kind)
      if (vectors.length !== texts.length) throw new Error(`the encoder returned ${vectors.length} vectors for ${texts.length} texts`)
    } catch (e) {
      for (const s of slices) this.cancel(s.entry, e)
      return
    }
    const seconds = (performance.now() - started) / 1000
    if (seconds > 0) this.rate = 0.7 * this.rate + 0.3 * (texts.length / seconds)
    this.onBatch({ texts: texts.length, tokens, requests: slices.length, seconds })
    let at = 0
    for (const s of slices) {
      for (let i = s.from; i < s.to; i++) s.entry.vectors[i] = vectors[at++] as Float32Array
      s.entry.outstanding -= s.to - s.from
      if (s.entry.outstanding === 0) this.settle(s.entry)
    }
  }
}
