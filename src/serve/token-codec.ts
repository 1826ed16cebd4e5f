/**
 * The profile model's tokenizer, on the server side of the encoder: counts the tokens each input
 * really costs (prefix and special tokens included, after truncation to max_tokens — exactly what
 * the encoder feeds the model, since both use TextTokenizer) and turns token-id inputs back into text.
 */
import { readFile } from 'node:fs/promises'
import { Tokenizer } from '@huggingface/tokenizers'
import type { Profile } from '../core/types.js'
import { resolveModel } from '../encoder/index.js'
import { TextTokenizer } from '../encoder/text-tokenizer.js'
import type { EncoderOptions, TextKind } from '../encoder/types.js'
import { badRequest } from './api-error.js'

export class TokenCodec {
  private constructor(
    private readonly profile: Profile,
    private readonly counter: TextTokenizer,
    private readonly vocabulary: Tokenizer,
  ) {}

  static async load(profile: Profile, opts: EncoderOptions = {}): Promise<TokenCodec> {
    const model = await resolveModel(profile.model, { offline: opts.offline, log: opts.log, profileFile: profile.file })
    const counter = await TextTokenizer.load(model.tokenizerPath, model.tokenizerConfigPath)
    // TextTokenizer.load already proved both files parse; read them again for a decoder.
    const json: unknown = JSON.parse(await readFile(model.tokenizerPath, 'utf8'))
    const config: unknown = model.tokenizerConfigPath ? JSON.parse(await readFile(model.tokenizerConfigPath, 'utf8')) : {}
    return new TokenCodec(profile, counter, new Tokenizer(json as object, config as object))
  }

  /** Tokens the model sees for `text` encoded as `kind`. */
  count(text: string, kind: TextKind): number {
    return this.counter.encode(this.profile.prefixes[kind] + text, this.profile.maxTokens).ids.length
  }

  /**
   * Token ids → text in the model's own vocabulary (special tokens dropped: the encoder adds its
   * own). The text is then encoded like any other input, prefix and truncation included, so ids
   * that came from tokenizing a text give that text's vector.
   */
  decode(ids: readonly number[], param: string): string {
    const unknown = ids.find((id) => this.vocabulary.id_to_token(id) === undefined)
    if (unknown !== undefined) throw badRequest(`'${param}' holds token id ${unknown}, which is not in the vocabulary of model ${this.profile.model.source}`, param, 'invalid_token')
    const text = this.vocabulary.decode([...ids], { skip_special_tokens: true })
    if (text.trim() === '') throw badRequest(`'${param}' decodes to no text (only special tokens)`, param, 'empty_input')
    return text
  }
}
