import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TextTokenizer } from '../../../src/encoder/text-tokenizer.js'
import { wordPieceTokenizerJson } from '../../../src/models/tokenizer-files.js'

const WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran']
const [CLS, SEP] = [2, 3]

/** Byte-free BPE with XLM-R/RoBERTa's pair template `<s> A </s></s> B </s>`. */
function bpeTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, c: 4, a: 5, t: 6, d: 7, o: 8, g: 9, ca: 10, cat: 11, do: 12, dog: 13 }
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<s>', 0), special('<pad>', 1), special('</s>', 2), special('<unk>', 3)],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, vocab, merges: ['c a', 'ca t', 'd o', 'do g'] },
  }
}

describe('TextTokenizer', () => {
  let dir: string
  let wordPiece: TextTokenizer
  let bpe: TextTokenizer

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'embedform-tok-'))
    await writeFile(join(dir, 'wp.json'), JSON.stringify(wordPieceTokenizerJson(new Map(WORDS.map((w, i) => [w, i])))))
    await writeFile(join(dir, 'bpe.json'), JSON.stringify(bpeTokenizerJson()))
    await writeFile(join(dir, 'bpe_config.json'), JSON.stringify({ pad_token: '<pad>' }))
    wordPiece = await TextTokenizer.load(join(dir, 'wp.json'))
    bpe = await TextTokenizer.load(join(dir, 'bpe.json'), join(dir, 'bpe_config.json'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('wraps a text in the template’s special tokens', () => {
    expect(wordPiece.encode('The cat sat', 64).ids).toEqual([CLS, 5, 6, 7, SEP])
  })

  it('truncates the content, never the special tokens', () => {
    expect(wordPiece.encode('the cat sat on the mat', 5).ids).toEqual([CLS, 5, 6, 7, SEP])
    expect(wordPiece.encode('the cat sat on the mat', 2).ids).toEqual([CLS, SEP])
  })

  it('builds pairs with segment ids and cuts the passage before the query', () => {
    expect(wordPiece.encodePair('the cat', 'dog ran', 64)).toEqual({ ids: [CLS, 5, 6, SEP, 10, 11, SEP], typeIds: [0, 0, 0, 0, 1, 1, 1] })
    expect(wordPiece.encodePair('the cat', 'dog ran on the mat', 7)).toEqual({ ids: [CLS, 5, 6, SEP, 10, 11, SEP], typeIds: [0, 0, 0, 0, 1, 1, 1] })
    expect(wordPiece.encodePair('the cat sat on', 'dog ran', 5).ids).toEqual([CLS, 5, 6, SEP, SEP])
  })

  it('BPE with a RoBERTa template: merges, <s> … </s></s> … </s>, pad from tokenizer_config', () => {
    expect(bpe.encode('cat dog', 64).ids).toEqual([0, 11, 13, 2])
    expect(bpe.encodePair('cat', 'dog dog', 6).ids).toEqual([0, 11, 2, 2, 13, 2])
    expect(bpe.padId).toBe(1)
  })

  it('takes the pad id from the vocabulary when the config names none', () => {
    expect(wordPiece.padId).toBe(0)
  })
})
