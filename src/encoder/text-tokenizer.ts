import { readFile } from 'node:fs/promises'
import { Tokenizer } from '@huggingface/tokenizers'
import { inputError } from '../core/errors.js'

/** Token ids (and segment ids for pairs) of one text, special tokens included, already truncated. */
export interface Tokens {
  ids: number[]
  typeIds?: number[]
}

interface Segment {
  ids: number[]
  typeIds: number[]
}

/**
 * The special tokens a post-processor wraps around one sequence (`[CLS] A [SEP]`) or a pair
 * (`[CLS] A [SEP] B [SEP]`, `<s> A </s></s> B </s>`). @huggingface/tokenizers has no truncation, so
 * we encode without specials, truncate the content, and put these back — which is exactly what
 * HF tokenizers' truncation does: the specials always survive.
 */
interface Template {
  prefix: Segment
  middle: Segment
  suffix: Segment
  typeA: number
  typeB: number
}

const PROBE_A = 'hello'
const PROBE_B = 'world'

/** A tokenizer.json (WordPiece, BPE, Unigram, WordLevel) with truncation to a token budget. */
export class TextTokenizer {
  readonly padId: number
  private readonly single: Template
  private pairTemplate: Template | undefined

  private constructor(
    private readonly tokenizer: Tokenizer,
    padId: number,
  ) {
    this.padId = padId
    this.single = this.learnTemplate(undefined)
  }

  static async load(tokenizerPath: string, configPath?: string): Promise<TextTokenizer> {
    const json = await readJson(tokenizerPath)
    const config = configPath ? await readJson(configPath).catch(() => ({})) : {}
    let tokenizer: Tokenizer
    try {
      tokenizer = new Tokenizer(json, config)
    } catch (cause) {
      throw inputError('E_TOKENIZER', `cannot load tokenizer: ${(cause as Error).message}`, { location: { file: tokenizerPath }, cause })
    }
    return new TextTokenizer(tokenizer, padIdOf(tokenizer, json, config))
  }

  /** Encodes one text to at most `maxTokens` ids, special tokens included. */
  encode(text: string, maxTokens: number): Tokens {
    const { prefix, suffix } = this.single
    const budget = Math.max(maxTokens - prefix.ids.length - suffix.ids.length, 0)
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids
    const body = content.length > budget ? content.slice(0, budget) : content
    return { ids: prefix.ids.concat(body, suffix.ids) }
  }

  /**
   * Encodes a (query, passage) pair to at most `maxTokens` ids. The passage is cut first, and the
   * query only if it alone does not fit — rerankers need the whole query more than the passage tail.
   */
  encodePair(a: string, b: string, maxTokens: number): Tokens {
    this.pairTemplate ??= this.learnTemplate(PROBE_B)
    const t = this.pairTemplate
    const specials = t.prefix.ids.length + t.middle.ids.length + t.suffix.ids.length
    let idsA = this.tokenizer.encode(a, { add_special_tokens: false }).ids
    let idsB = this.tokenizer.encode(b, { add_special_tokens: false }).ids
    const budget = Math.max(maxTokens - specials, 0)
    if (idsA.length + idsB.length > budget) {
      idsB = idsB.slice(0, Math.max(budget - idsA.length, 0))
      if (idsA.length > budget) idsA = idsA.slice(0, budget)
    }
    const ids = t.prefix.ids.concat(idsA, t.middle.ids, idsB, t.suffix.ids)
    const typeIds = t.prefix.typeIds.concat(
      new Array<number>(idsA.length).fill(t.typeA),
      t.middle.typeIds,
      new Array<number>(idsB.length).fill(t.typeB),
      t.suffix.typeIds,
    )
    return { ids, typeIds }
  }

  /** Finds where the content sits in a probe encoding; everything around it is the template. */
  private learnTemplate(pair: string | undefined): Template {
    const full = this.tokenizer.encode(PROBE_A, { text_pair: pair ?? null, add_special_tokens: true, return_token_type_ids: true })
    const a = this.tokenizer.encode(PROBE_A, { add_special_tokens: false }).ids
    const b = pair === undefined ? [] : this.tokenizer.encode(pair, { add_special_tokens: false }).ids
    const types = full.token_type_ids ?? new Array<number>(full.ids.length).fill(0)
    const startA = indexOfRun(full.ids, a, 0)
    const startB = pair === undefined ? startA + a.length : indexOfRun(full.ids, b, startA + a.length)
    if (startA < 0 || startB < 0) {
      throw inputError('E_TOKENIZER', 'the tokenizer post-processor changes the content tokens, so truncation cannot keep its special tokens')
    }
    const seg = (from: number, to: number): Segment => ({ ids: full.ids.slice(from, to), typeIds: types.slice(from, to) })
    return {
      prefix: seg(0, startA),
      middle: pair === undefined ? seg(0, 0) : seg(startA + a.length, startB),
      suffix: seg(startB + b.length, full.ids.length),
      typeA: types[startA] ?? 0,
      typeB: types[startB] ?? 0,
    }
  }
}

function indexOfRun(hay: number[], needle: number[], from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw inputError('E_MODEL_FILE', `cannot read ${path}: ${(cause as Error).message}`, { location: { file: path }, cause })
  }
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (cause) {
    throw inputError('E_MODEL_FILE', `${path} is not valid JSON: ${(cause as Error).message}`, { location: { file: path }, cause })
  }
}

/** Padding never reaches the model's output (attention mask 0), but a real pad id keeps it in range. */
function padIdOf(tokenizer: Tokenizer, json: Record<string, unknown>, config: Record<string, unknown>): number {
  const padding = json.padding as { pad_id?: number } | null | undefined
  if (typeof padding?.pad_id === 'number') return padding.pad_id
  const padToken = config.pad_token
  const name = typeof padToken === 'string' ? padToken : (padToken as { content?: string } | undefined)?.content
  for (const candidate of [name, '[PAD]', '<pad>', '<|endoftext|>']) {
    const id = candidate === undefined ? undefined : tokenizer.token_to_id(candidate)
    if (id !== undefined) return id
  }
  return 0
}
