import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import { bertGraph } from '../../../src/models/bert-graph.js'
import { convertToFp16, fromHalfBits, toHalfBits } from '../../../src/models/fp16.js'
import { attr, floatTensor, GraphBuilder, makeModel } from '../../../src/models/onnx/graph-builder.js'
import { DataType, encodeModel, type ModelProto } from '../../../src/models/onnx/model-proto.js'
import { fieldString, readFields, type WireField } from '../../../src/models/onnx/proto-reader.js'
import { quantizeModel } from '../../../src/models/quantize.js'
import { BERT_TINY_SHAPE } from '../../../src/models/synthetic-bert.js'
import { cosine } from '../../../src/encoder/pooling.js'
import { floats, int64 } from './helpers.js'

const bytesOf = (m: ModelProto) => Buffer.concat(encodeModel(m))
const fields = (f: WireField | undefined) => readFields(f?.bytes ?? new Uint8Array())

function graphOf(bytes: Uint8Array): WireField[] {
  return fields(readFields(bytes).find((f) => f.field === 7))
}

/** [op type, attribute `to` if any] of every node, and the data type of every initializer. */
function describeModel(bytes: Uint8Array): { ops: string[]; castTo: number[]; initializerTypes: number[] } {
  const graph = graphOf(bytes)
  const nodes = graph.filter((f) => f.field === 1).map(fields)
  const castTo = nodes
    .filter((n) => fieldString(n.find((x) => x.field === 4) as WireField) === 'Cast')
    .map((n) => Number(fields(n.find((x) => x.field === 5)).find((x) => x.field === 3)?.int))
  return {
    ops: nodes.map((n) => fieldString(n.find((x) => x.field === 4) as WireField)),
    castTo,
    initializerTypes: graph.filter((f) => f.field === 5).map((f) => Number(fields(f).find((x) => x.field === 2)?.int)),
  }
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 })
  try {
    return Object.values(await session.run(feeds))[0] as ort.Tensor
  } finally {
    await session.release()
  }
}

describe('binary16 conversion', () => {
  it('rounds to nearest even like numpy, keeps zeros, infinities and NaN, and reads back', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], // tie: rounds to the even mantissa
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to the even mantissa
      [2 ** -26, 0x0000],
      [-0, 0x8000],
      [1e6, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ]
    for (const [value, bits] of cases) expect([value, toHalfBits(value)]).toEqual([value, bits])
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00)
    expect(Number.isNaN(fromHalfBits(toHalfBits(Number.NaN)))).toBe(true)
    for (const v of [1, -2, 0.5, 65504, 2 ** -24, 2 ** -14, -0.0999755859375]) expect(fromHalfBits(toHalfBits(v))).toBe(v)
    expect(fromHalfBits(0x7c00)).toBe(Number.POSITIVE_INFINITY)
  })
})

describe('convertToFp16', () => {
  const ids = int64([
    [101, 2000, 3000, 4000, 102, 0],
    [101, 2500, 102, 0, 0, 0],
  ])
  const mask = int64([
    [1, 1, 1, 1, 1, 0],
    [1, 1, 1, 0, 0, 0],
  ])
  const types = int64([
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ])

  it('turns a BERT into float16 weights and compute with float32 output; onnxruntime CPU runs it within cosine 0.999 of fp32, at half the size', async () => {
    const fp32 = bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 7, 'none')))
    const { chunks, report } = convertToFp16(fp32, { sourceSha256: 'ab'.repeat(32) })
    const fp16 = Buffer.concat(chunks)
    expect(report.bytesOut).toBe(fp16.length)
    expect(report.bytesOut / report.bytesIn).toBeGreaterThan(0.45)
    expect(report.bytesOut / report.bytesIn).toBeLessThan(0.55)
    expect(report.fp16WeightBytes * 2).toBe(report.floatWeightBytes)
    // The attention mask's Cast now casts to float16, and the output is cast back to float32 at the end.
    expect(report).toMatchObject({ casts: 1, ioCasts: 1 })
    // Only the odd random weight below 1e-7 in magnitude (of ~300k) is clamped up to it.
    expect(report.clamped).toBeLessThan(5)
    const d = describeModel(fp16)
    expect(d.initializerTypes.filter((t) => t === DataType.FLOAT)).toEqual([])
    expect(d.initializerTypes).toContain(DataType.FLOAT16)
    expect(d.castTo).toEqual([DataType.FLOAT16, DataType.FLOAT])
    expect(d.ops.at(-1)).toBe('Cast')

    const feeds = { input_ids: ids, attention_mask: mask, token_type_ids: types }
    const [a, b] = [await run(fp32, feeds), await run(fp16, feeds)]
    expect(b.type).toBe('float32')
    expect(b.dims).toEqual(a.dims)
    const hidden = BERT_TINY_SHAPE.hidden
    const [x, y] = [floats(a), floats(b)]
    for (let t = 0; t < x.length / hidden; t++) {
      expect(cosine(x.slice(t * hidden, (t + 1) * hidden), y.slice(t * hidden, (t + 1) * hidden))).toBeGreaterThan(0.999)
    }
  })

  it('converts constants (value, value_float, value_floats, ConstantOfShape without value), clamps out-of-range ones, and keeps a float32 input float32', async () => {
    const b = new GraphBuilder('constants')
    const x = b.input('x', DataType.FLOAT, [2, 3])
    const tensor = b.op('Constant', [], { value: attr.tensor(floatTensor('v', Float32Array.of(-3.4e38, 1, 2), [3])) })
    const scalar = b.op('Constant', [], { value_float: attr.float(0.5) })
    const list = b.op('Constant', [], { value_floats: attr.floats([1e-9, 2, 3]) })
    const zeros = b.op('ConstantOfShape', [b.int64('shape', [3])])
    const sum = b.op('Add', [b.op('Add', [b.op('Mul', [x, scalar]), list]), b.op('Add', [zeros, b.op('Div', [tensor, b.scalar('big', 1e4)])])])
    b.output('y', sum, DataType.FLOAT, [2, 3])
    const fp32 = bytesOf(makeModel(b.build()))
    const { chunks, report } = convertToFp16(fp32)
    expect(report).toMatchObject({ constants: 4, clamped: 2, ioCasts: 2, tensors: 1 })
    const input = new ort.Tensor('float32', Float32Array.of(1, 2, 3, -1, -2, -3), [2, 3])
    const y = floats(await run(Buffer.concat(chunks), { x: input }))
    // −3.4e38 is clamped to −1e4 (as onnxruntime's tool does), so −3.4e38 / 1e4 becomes −1.
    const expected = [0.5 + 1e-7 - 1, 1 + 2 + 1e-4, 1.5 + 3 + 2e-4, -0.5 + 1e-7 - 1, -1 + 2 + 1e-4, -1.5 + 3 + 2e-4]
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 3))
    const fp32Out = floats(await run(fp32, { x: input }))
    expect(fp32Out[0]).toBeLessThan(-1e30)
  })

  it('refuses ops it cannot type, outputs no node computes, models already converted or quantized, and its output as int8 input', () => {
    const b = new GraphBuilder('loop')
    const x = b.input('x', DataType.FLOAT, [2])
    b.output('y', b.op('RandomNormalLike', [x]), DataType.FLOAT, [2])
    const catchError = (f: () => unknown): EmbedformError => {
      try {
        f()
      } catch (e) {
        return e as EmbedformError
      }
      throw new Error('expected an error')
    }
    const unsupported = catchError(() => convertToFp16(bytesOf(makeModel(b.build())), { file: 'weird.onnx' }))
    expect(unsupported).toMatchObject({ code: 'E_CONVERT', kind: 'input', location: { file: 'weird.onnx' } })
    expect(unsupported.message).toContain('RandomNormalLike')
    expect(unsupported.hint).toContain('keep_io_types=True')

    const passthrough = new GraphBuilder('passthrough')
    passthrough.input('x', DataType.FLOAT, [2])
    passthrough.output('x', 'x', DataType.FLOAT, [2])
    expect(catchError(() => convertToFp16(bytesOf(makeModel(passthrough.build())))).message).toContain('graph output x is a graph input or a weight')

    const fp32 = bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 7, 'none')))
    const fp16 = Buffer.concat(convertToFp16(fp32).chunks)
    expect(catchError(() => convertToFp16(fp16)).message).toContain('already converted to float16')
    expect(catchError(() => quantizeModel(fp16)).message).toContain('float16 weights')
    const int8 = Buffer.concat(quantizeModel(fp32).chunks)
    expect(catchError(() => convertToFp16(int8)).message).toContain('int8-quantized')
  })
})
