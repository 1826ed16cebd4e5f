/**
 * One loaded profile: its encoder behind a batcher, its tokenizer for token counts and token-id
 * inputs, and (on first use) its reranker behind a serial queue. Reference-counted: the live
 * pointer of a collection holds a reference, and so does every request that uses it, so after a
 * cutover the old model finishes what it accepted (drains) and closes once the last request is done.
 */
import { fingerprint, stableJson } from '../core/fingerprint.js'
import type { Profile } from '../core/types.js'
import type { Encoder, EncoderOptions, OpenEncoder, Reranker, RerankResult, TextKind } from '../encoder/types.js'
import type { OpenReranker } from '../search/search.js'
import { badRequest } from './api-error.js'
import { EncodeBatcher } from './batcher.js'
import type { ServeMetrics } from './metrics.js'
import type { ServeOptions } from './options.js'
import { SerialQueue } from './serial-queue.js'
import { TokenCodec } from './token-codec.js'

export interface SlotDeps {
  openEncoder: OpenEncoder
  openReranker: OpenReranker
  encoderOptions?: EncoderOptions
  options: Pick<ServeOptions, 'batching' | 'maxBatchTokens' | 'maxQueuedTexts'>
  metrics: ServeMetrics
}

/** Profiles that make identical vectors on the same runtime settings share one loaded model. */
export function slotKey(profile: Profile): string {
  return stableJson({ fingerprint: fingerprint(profile), device: profile.device, batchSize: profile.batchSize, threads: profile.threads ?? null, reranker: profile.reranker ?? null })
}

/** Encoders that can say how wide the model's own output is (OnnxEncoder). */
interface WidthProbe {
  modelDimensions(): Promise<number>
}

function canProbeWidth(e: Encoder): e is Encoder & WidthProbe {
  return typeof (e as Partial<WidthProbe>).modelDimensions === 'function'
}

export interface Embedded {
  vectors: Float32Array[]
  /** Token count of each text as the model saw it. */
  tokens: number[]
}

export class ModelSlot {
  readonly key: string
  readonly fingerprint: string
  private readonly batcher: EncodeBatcher
  private refs = 0
  private closed = false
  private reranker: Promise<Reranker> | undefined
  private readonly rerankQueue: SerialQueue
  /** Called once the last reference is gone; the pool forgets the slot and closes it. */
  onUnused: () => void = () => undefined

  private constructor(
    readonly profile: Profile,
    private readonly encoder: Encoder,
    readonly codec: TokenCodec,
    /** The profile already cuts a wider model's output (Matryoshka), so callers may cut further. */
    readonly truncatable: boolean,
    private readonly deps: SlotDeps,
  ) {
    this.key = slotKey(profile)
    this.fingerprint = fingerprint(profile)
    const m = deps.metrics
    this.batcher = new EncodeBatcher(
      (texts, kind) => encoder.encode(texts, kind),
      { crossRequest: deps.options.batching, maxBatchTokens: deps.options.maxBatchTokens, maxQueuedTexts: deps.options.maxQueuedTexts },
      (s) => {
        m.batchTexts.observe(s.texts)
        m.batchRequests.observe(s.requests)
        m.encodeSeconds.observe(s.seconds)
      },
    )
    this.rerankQueue = new SerialQueue(deps.options.maxQueuedTexts)
  }

  static async open(profile: Profile, deps: SlotDeps): Promise<ModelSlot> {
    const encoder = await deps.openEncoder(profile, deps.encoderOptions)
    try {
      const codec = await TokenCodec.load(profile, deps.encoderOptions)
      const width = canProbeWidth(encoder) ? await encoder.modelDimensions() : profile.dimensions
      return new ModelSlot(profile, encoder, codec, width > profile.dimensions, deps)
    } catch (e) {
      await encoder.close()
      throw e
    }
  }

  /** Queued texts and rerank passages. */
  get depth(): number {
    return this.batcher.depth + this.rerankQueue.depth
  }

  /** A reference; the returned function gives it back (once, however often it is called). */
  retain(): () => void {
    if (this.closed) throw new Error(`model slot of profile ${this.profile.name} is already closed`)
    this.refs++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--this.refs === 0) this.onUnused()
    }
  }

  /** Encodes through the batcher with the profile's prefix for `kind`. */
  async embed(texts: string[], kind: TextKind, signal?: AbortSignal): Promise<Embedded> {
    const tokens = texts.map((t) => this.codec.count(t, kind))
    const vectors = await this.batcher.submit(texts, tokens, kind, signal)
    const m = this.deps.metrics
    m.texts.inc({ input_type: kind }, texts.length)
    m.tokens.inc({ input_type: kind }, tokens.reduce((a, b) => a + b, 0))
    return { vectors, tokens }
  }

  /** Scores passages with the profile's cross-encoder, one call at a time. */
  async rerank(query: string, passages: string[], topN: number, param: string | null, signal?: AbortSignal): Promise<RerankResult[]> {
    const settings = this.profile.reranker
    if (!settings) throw badRequest(`profile "${this.profile.name}" declares no reranker; add a \`reranker:\` section to it`, param, 'reranker_not_configured')
    if (!this.reranker) {
      const loading = this.deps.openReranker(settings, {
        ...this.deps.encoderOptions,
        device: this.profile.device,
        ...(this.profile.threads !== undefined ? { threads: this.profile.threads } : {}),
        ...(this.profile.file ? { profileFile: this.profile.file } : {}),
      })
      this.reranker = loading
      // A failed load is not kept: the next request tries again.
      loading.catch(() => {
        if (this.reranker === loading) this.reranker = undefined
      })
    }
    const model = await this.reranker
    return this.rerankQueue.run(passages.length, () => model.rerank(query, passages, topN), signal)
  }

  /** An Encoder whose encode() goes through this slot's batcher (search shares the queue with embeddings). */
  batchedEncoder(signal?: AbortSignal): Encoder {
    const slot = this
    return {
      dimensions: this.profile.dimensions,
      provider: this.encoder.provider,
      async encode(texts, kind) {
        return (await slot.embed(texts, kind, signal)).vectors
      },
      async *encodeStream(batches, kind) {
        for await (const items of batches) yield { items, vectors: (await slot.embed(items.map((i) => i.text), kind, signal)).vectors }
      },
      // The slot owns the real encoder and closes it when its last reference goes.
      async close() {},
    }
  }

  /** A Reranker over this slot's serial rerank queue. */
  queuedReranker(signal?: AbortSignal): Reranker {
    const slot = this
    return {
      provider: this.encoder.provider,
      rerank: (query, passages, topN) => slot.rerank(query, passages, topN, 'rerank', signal),
      async close() {},
    }
  }

  /** Waits for accepted work (a timed-out request may still have texts in the running batch), then frees the sessions. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([this.batcher.idle(), this.rerankQueue.idle()])
    const reranker = this.reranker
    await Promise.allSettled([this.encoder.close(), reranker?.then((r) => r.close())])
  }
}
