import { inputError } from '../core/errors.js'
import type { Profile } from '../core/types.js'
import { BufferPool, type BatchBuffers, paddingOf, planBatches, restoreOrder } from './batching.js'
import type { ModelRunner, RunOutput } from './model-runner.js'
import { finishVectors, pool } from './pooling.js'
import type { Tokens, TextTokenizer } from './text-tokenizer.js'
import type { Encoder, TextKind } from './types.js'

/** What the encoder has run so far: padded-token waste is 1 − realTokens / paddedTokens. */
export interface EncoderStats {
  texts: number
  batches: number
  realTokens: number
  paddedTokens: number
}

/** Output names sentence-embedding exports use, most specific first. */
export const EMBEDDING_OUTPUTS = ['last_hidden_state', 'token_embeddings', 'sentence_embedding'] as const

/** Texts tokenized per turn of the event loop while a stream's previous batch is in the session (~10 ms of JS). */
const TOKENIZE_TURN = 16

/** Encoder over one ONNX session: tokenize → sort → dynamic-padded batches → pool → truncate → normalize. */
export class OnnxEncoder implements Encoder {
  readonly provider: string
  readonly dimensions: number
  /** Padded tokens (texts × longest text) allowed per session.run; the profile's batch size caps the count. */
  readonly tokenBudget: number
  private readonly buffers = new BufferPool()
  private readonly counters: EncoderStats = { texts: 0, batches: 0, realTokens: 0, paddedTokens: 0 }

  constructor(
    private readonly runner: ModelRunner,
    private readonly tokenizer: TextTokenizer,
    private readonly profile: Profile,
    provider: string,
    tokenBudget = Number.POSITIVE_INFINITY,
  ) {
    this.provider = provider
    this.dimensions = profile.dimensions
    this.tokenBudget = tokenBudget
  }

  get stats(): EncoderStats {
    return { ...this.counters }
  }

  /** Milliseconds spent inside session.run so far (the rest of wall time is pipeline overhead). */
  get sessionMs(): number {
    return this.runner.runMs
  }

  /** Width of the model's pooled output, before any Matryoshka truncation. */
  async modelDimensions(): Promise<number> {
    const [row] = await this.runTokenized([this.tokenizer.encode('dimension probe', this.profile.maxTokens)], false)
    return row?.length ?? 0
  }

  /** Fails before any store is touched if the model cannot produce the profile's dimensions; returns the model's width. */
  async checkDimensions(): Promise<number> {
    const width = await this.modelDimensions()
    if (width < this.profile.dimensions) {
      throw inputError('E_DIMENSIONS', `profile ${this.profile.name} asks for ${this.profile.dimensions} dimensions but model ${this.profile.model.source} produces ${width}`, {
        location: { file: this.profile.file, path: 'dimensions' },
        hint: `set \`dimensions: ${width}\` (or fewer, for Matryoshka truncation)`,
      })
    }
    return width
  }

  tokenize(texts: readonly string[], kind: TextKind): Tokens[] {
    const prefix = this.profile.prefixes[kind]
    return texts.map((t) => this.tokenizer.encode(prefix + t, this.profile.maxTokens))
  }

  /**
   * tokenize, giving the event loop a turn every TOKENIZE_TURN texts. Batch n's sub-batches are
   * started from the JS thread as each one ends: tokenizing a whole page at once (~0.5 s for
   * 1,000 passages with bert-tiny) left the session idle after its current sub-batch, so the
   * two did not overlap at all.
   */
  private async tokenizeInTurns(texts: readonly string[], kind: TextKind): Promise<Tokens[]> {
    const out: Tokens[] = []
    for (let i = 0; i < texts.length; i += TOKENIZE_TURN) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve))
      out.push(...this.tokenize(texts.slice(i, i + TOKENIZE_TURN), kind))
    }
    return out
  }

  async encode(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    return this.runTokenized(this.tokenize(texts, kind), true)
  }

  /**
   * Keeps at most two caller batches alive: while batch n is inside session.run (on ORT's native
   * threads), the JS thread tokenizes batch n+1.
   */
  async *encodeStream<T extends { text: string }>(batches: AsyncIterable<T[]>, kind: TextKind): AsyncIterable<{ items: T[]; vectors: Float32Array[] }> {
    let inFlight: Promise<{ items: T[]; vectors: Float32Array[] }> | undefined
    for await (const items of batches) {
      const tokens = await this.tokenizeInTurns(
        items.map((i) => i.text),
        kind,
      )
      if (inFlight) yield await inFlight
      inFlight = this.runTokenized(tokens, true).then((vectors) => ({ items, vectors }))
    }
    if (inFlight) yield await inFlight
  }

  /**
   * Runs sub-batches of similar-length texts (batch size and token budget). This call's two buffers alternate so batch
   * j+1 is padded while batch j runs, and batch j is pooled after batch j+1 has started. The buffers
   * are this call's alone until it returns: concurrent calls each take their own pair from the pool.
   */
  private async runTokenized(tokens: Tokens[], finish: boolean): Promise<Float32Array[]> {
    const lengths = tokens.map((t) => t.ids.length)
    const plan = planBatches(lengths, { maxBatch: this.profile.batchSize, tokenBudget: this.tokenBudget })
    if (plan.length === 0) return []
    const padding = paddingOf(lengths, plan)
    this.counters.texts += tokens.length
    this.counters.batches += plan.length
    this.counters.realTokens += padding.realTokens
    this.counters.paddedTokens += padding.paddedTokens
    const pair: BatchBuffers[] = plan.length > 1 ? [this.buffers.acquire(), this.buffers.acquire()] : [this.buffers.acquire()]
    const fill = (j: number) => (pair[j % pair.length] as BatchBuffers).fill((plan[j] ?? []).map((i) => tokens[i] as Tokens), this.tokenizer.padId)
    const results: Float32Array[][] = []
    let current = fill(0)
    let running = this.runner.run(current)
    try {
      for (let j = 0; j < plan.length; j++) {
        const next = j + 1 < plan.length ? fill(j + 1) : undefined
        const output = await running
        if (next) running = this.runner.run(next)
        results.push(this.poolOutput(output, current.lengths, finish))
        if (next) current = next
      }
    } finally {
      // After a failure a run may still be reading its buffer: give the buffers back once it settles.
      void running.then(
        () => this.buffers.release(...pair),
        () => this.buffers.release(...pair),
      )
    }
    return restoreOrder(plan, results, tokens.length)
  }

  private poolOutput(out: RunOutput, lengths: Int32Array, finish: boolean): Float32Array[] {
    const pooled =
      out.dims.length === 2
        ? splitRows(out.data, out.dims[0] ?? 0, out.dims[1] ?? 0)
        : pool({ data: out.data, batch: out.dims[0] ?? 0, seqLen: out.dims[1] ?? 0, hidden: out.dims[2] ?? 0, lengths }, this.profile.pooling)
    return finish ? finishVectors(pooled, this.profile.dimensions, this.profile.normalize) : pooled
  }

  async close(): Promise<void> {
    await this.runner.close()
  }
}

/** Models that pool inside the graph output [batch, hidden] directly. */
function splitRows(data: Float32Array, batch: number, width: number): Float32Array[] {
  const rows: Float32Array[] = []
  for (let b = 0; b < batch; b++) rows.push(data.slice(b * width, (b + 1) * width))
  return rows
}
