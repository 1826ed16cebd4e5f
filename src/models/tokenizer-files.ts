/**
 * tokenizer.json / tokenizer_config.json in the Hugging Face `tokenizers` format, so both our
 * encoder (@huggingface/tokenizers) and @huggingface/transformers load the same directory.
 */

interface AddedToken {
  id: number
  content: string
  single_word: false
  lstrip: false
  rstrip: false
  normalized: false
  special: true
}

function addedTokens(vocab: ReadonlyMap<string, number>, specials: readonly string[]): AddedToken[] {
  return specials.map((content) => ({
    id: idOf(vocab, content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }))
}

function idOf(vocab: ReadonlyMap<string, number>, token: string): number {
  const id = vocab.get(token)
  if (id === undefined) throw new RangeError(`vocabulary has no ${token}`)
  return id
}

export const BERT_SPECIALS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const

/** BERT-uncased WordPiece: lowercase + strip accents, split on whitespace and punctuation, [CLS] … [SEP]. */
export function wordPieceTokenizerJson(vocab: ReadonlyMap<string, number>): Record<string, unknown> {
  const { pad, unk, cls, sep, mask } = BERT_SPECIALS
  const clsId = idOf(vocab, cls)
  const sepId = idOf(vocab, sep)
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab, [pad, unk, cls, sep, mask]).sort((a, b) => a.id - b.id),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  }
}

export function wordPieceTokenizerConfig(maxLength: number): Record<string, unknown> {
  const { pad, unk, cls, sep, mask } = BERT_SPECIALS
  return {
    tokenizer_class: 'BertTokenizer',
    model_max_length: maxLength,
    do_lower_case: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
    clean_up_tokenization_spaces: true,
    cls_token: cls,
    sep_token: sep,
    pad_token: pad,
    unk_token: unk,
    mask_token: mask,
  }
}

export const STATIC_SPECIALS = { pad: '[PAD]', unk: '[UNK]' } as const

/**
 * Word-level lookup for static word vectors: NFKC + lowercase (GloVe 6B is lowercased), then
 * whitespace and isolated punctuation, which is close to how the GloVe corpus was tokenized.
 */
export function wordLevelTokenizerJson(vocab: ReadonlyMap<string, number>): Record<string, unknown> {
  const { pad, unk } = STATIC_SPECIALS
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab, [pad, unk]),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }] },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab), unk_token: unk },
  }
}

export function wordLevelTokenizerConfig(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    do_lower_case: true,
    clean_up_tokenization_spaces: false,
    pad_token: STATIC_SPECIALS.pad,
    unk_token: STATIC_SPECIALS.unk,
  }
}
