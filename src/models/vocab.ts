import { inputError } from '../core/errors.js'
import { BERT_SPECIALS, STATIC_SPECIALS } from './tokenizer-files.js'

/** token → id, ids dense from 0 in insertion order. */
export type Vocab = Map<string, number>

function add(vocab: Vocab, token: string): void {
  if (!vocab.has(token)) vocab.set(token, vocab.size)
}

/** [PAD]=0, [UNK]=1, then the words in order: row i of a static model's matrix is word i − 2. */
export function staticVocab(words: readonly string[]): Vocab {
  const vocab: Vocab = new Map()
  add(vocab, STATIC_SPECIALS.pad)
  add(vocab, STATIC_SPECIALS.unk)
  for (const w of words) add(vocab, w)
  return vocab
}

/** Printable ASCII plus Latin-1/Latin Extended-A letters (after BertNormalizer strips accents most of these fold to ASCII anyway). */
function baseCharacters(): string[] {
  const chars: string[] = []
  for (let c = 0x21; c <= 0x7e; c++) chars.push(String.fromCharCode(c))
  for (let c = 0xa1; c <= 0x17f; c++) chars.push(String.fromCharCode(c).toLowerCase())
  return chars
}

/**
 * A BERT-uncased-style WordPiece vocabulary: the ids real BERT uses for its specials ([PAD]=0,
 * [unused0..98], [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103), every single character and its
 * `##` continuation so any text tokenizes, then the most frequent alphanumeric GloVe words
 * (BertPreTokenizer splits punctuation, so words containing it could never match), up to `size`.
 */
export function wordPieceVocab(gloveWords: readonly string[], size: number): Vocab {
  const vocab: Vocab = new Map()
  add(vocab, BERT_SPECIALS.pad)
  for (let i = 0; i < 99; i++) add(vocab, `[unused${i}]`)
  add(vocab, BERT_SPECIALS.unk)
  add(vocab, BERT_SPECIALS.cls)
  add(vocab, BERT_SPECIALS.sep)
  add(vocab, BERT_SPECIALS.mask)
  const chars = baseCharacters()
  for (const c of chars) add(vocab, c)
  for (const c of chars) add(vocab, `##${c}`)
  if (vocab.size > size) {
    throw inputError('E_MODEL_SPEC', `a WordPiece vocabulary needs at least ${vocab.size} entries, got ${size}`, { location: { path: 'vocabSize' } })
  }
  for (const w of gloveWords) {
    if (vocab.size >= size) break
    if (/^[a-z0-9]+$/.test(w)) add(vocab, w)
  }
  return vocab
}
