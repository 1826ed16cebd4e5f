import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BERT_TINY_SHAPE, buildCrossEncoder, buildSyntheticBert, type BuiltModel } from '../../../src/models/index.js'
import { floats, int64, tempDir } from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let bert: BuiltModel
let session: ort.InferenceSession

beforeAll(async () => {
  tmp = await tempDir('bert')
  bert = await buildSyntheticBert({ outDir: join(tmp.path, 'a'), name: 'bert-tiny', shape: BERT_TINY_SHAPE, seed: 7 })
  session = await ort.InferenceSession.create(join(bert.dir, 'onnx/model.onnx'))
})
afterAll(async () => {
  await session.release()
  await tmp.cleanup()
})

const readJson = async (dir: string, file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, file), 'utf8'))

describe('synthetic BERT encoder', () => {
  it('declares the BERT inputs and last_hidden_state [batch, sequence, hidden]', async () => {
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids'])
    expect(session.outputNames).toEqual(['last_hidden_state'])
    const out = await session.run({
      input_ids: int64([[101, 2000, 3000, 102], [101, 2500, 102, 0]]),
      attention_mask: int64([[1, 1, 1, 1], [1, 1, 1, 0]]),
      token_type_ids: int64([[0, 0, 0, 0], [0, 0, 0, 0]]),
    })
    expect(out.last_hidden_state?.dims).toEqual([2, 4, 32])
    expect(floats(out.last_hidden_state).every(Number.isFinite)).toBe(true)
  })

  it('ignores padding: a padded row matches the same sequence run alone', async () => {
    const alone = await session.run({ input_ids: int64([[101, 2500, 102]]), attention_mask: int64([[1, 1, 1]]), token_type_ids: int64([[0, 0, 0]]) })
    const padded = await session.run({
      input_ids: int64([[101, 2000, 3000, 4000, 102], [101, 2500, 102, 0, 0]]),
      attention_mask: int64([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
      token_type_ids: int64([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
    })
    const expected = floats(alone.last_hidden_state)
    const row = floats(padded.last_hidden_state).slice(5 * 32, 5 * 32 + 3 * 32)
    row.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 4))
  })

  it('is deterministic for a seed and changes with it', async () => {
    const again = await buildSyntheticBert({ outDir: join(tmp.path, 'b'), name: 'bert-tiny', shape: BERT_TINY_SHAPE, seed: 7 })
    const other = await buildSyntheticBert({ outDir: join(tmp.path, 'c'), name: 'bert-tiny', shape: BERT_TINY_SHAPE, seed: 8 })
    expect(again.manifest.onnx.sha256).toBe(bert.manifest.onnx.sha256)
    expect((await readFile(join(again.dir, 'onnx/model.onnx'))).equals(await readFile(join(bert.dir, 'onnx/model.onnx')))).toBe(true)
    expect(other.manifest.onnx.sha256).not.toBe(bert.manifest.onnx.sha256)
  })

  it('writes a Hugging Face layout: config.json, tokenizer_config.json and a WordPiece tokenizer.json', async () => {
    const config = await readJson(bert.dir, 'config.json')
    expect(config).toMatchObject({ model_type: 'bert', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, vocab_size: 8192 })
    const tokenizerJson = await readJson(bert.dir, 'tokenizer.json')
    const model = tokenizerJson.model as { type: string; vocab: Record<string, number> }
    expect(model.type).toBe('WordPiece')
    expect(Object.keys(model.vocab)).toHaveLength(8192)
    expect(model.vocab).toMatchObject({ '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103 })
    expect(bert.manifest).toMatchObject({ kind: 'bert', dims: 32, vocabSize: 8192, seed: 7 })

    const tokenizer = new Tokenizer(tokenizerJson, await readJson(bert.dir, 'tokenizer_config.json'))
    const enc = tokenizer.encode('The Café serves Xylophonists 42 drinks; ok?')
    expect(enc.tokens[0]).toBe('[CLS]')
    expect(enc.tokens.at(-1)).toBe('[SEP]')
    expect(enc.tokens).toContain('the')
    expect(enc.tokens).toContain('cafe')
    expect(enc.ids).not.toContain(100)
    expect(Math.max(...enc.ids)).toBeLessThan(8192)
  })

  it('rejects a shape whose hidden size does not split into heads', async () => {
    await expect(buildSyntheticBert({ outDir: join(tmp.path, 'bad'), shape: { hidden: 30, heads: 4 } })).rejects.toMatchObject({ code: 'E_MODEL_SPEC', kind: 'input' })
  })
})

describe('synthetic cross-encoder', () => {
  it('outputs logits [batch, 1] that depend on the pair', async () => {
    const ce = await buildCrossEncoder({ outDir: join(tmp.path, 'ce'), name: 'cross-encoder-tiny', shape: BERT_TINY_SHAPE })
    expect(await readJson(ce.dir, 'config.json')).toMatchObject({ architectures: ['BertForSequenceClassification'], num_labels: 1 })
    expect(ce.manifest).toMatchObject({ kind: 'cross-encoder', dims: 1 })
    const s = await ort.InferenceSession.create(join(ce.dir, 'onnx/model.onnx'))
    expect(s.outputNames).toEqual(['logits'])
    const out = await s.run({
      input_ids: int64([[101, 2000, 102, 3000, 102], [101, 2000, 102, 5000, 102], [101, 700, 102, 0, 0]]),
      attention_mask: int64([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
      token_type_ids: int64([[0, 0, 0, 1, 1], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]),
    })
    expect(out.logits?.dims).toEqual([3, 1])
    const [a, b, c] = floats(out.logits)
    expect(a).not.toBe(b)
    expect(b).not.toBe(c)
    await s.release()
  })
})
