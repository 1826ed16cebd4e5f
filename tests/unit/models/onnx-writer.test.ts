import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attr, floatTensor, GraphBuilder, makeModel, writeModel } from '../../../src/models/onnx/graph-builder.js'
import { DataType } from '../../../src/models/onnx/model-proto.js'
import { ProtoWriter } from '../../../src/models/onnx/protobuf.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'embedform-onnx-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('ProtoWriter', () => {
  it('encodes varints, negative int64 and nested messages like protoc', () => {
    expect([...new ProtoWriter().int(1, 150).toBytes()]).toEqual([0x08, 0x96, 0x01])
    expect([...new ProtoWriter().int(2, -1).toBytes()]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
    expect([...new ProtoWriter().message(3, new ProtoWriter().string(1, 'ab')).toBytes()]).toEqual([0x1a, 0x04, 0x0a, 0x02, 0x61, 0x62])
    expect([...new ProtoWriter().float(2, 1).toBytes()]).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f])
  })
})

describe('ONNX writer', () => {
  it('writes a MatMul + Add graph onnxruntime loads and runs with exact results', async () => {
    const b = new GraphBuilder('affine')
    const x = b.input('x', DataType.FLOAT, ['batch', 2])
    const w = b.weight('w', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3])
    const bias = b.weight('b', Float32Array.of(0.5, -1, 10), [3])
    b.output('y', b.op('Add', [b.op('MatMul', [x, w]), bias]), DataType.FLOAT, ['batch', 3])
    const path = join(dir, 'affine.onnx')
    await writeModel(path, makeModel(b.build()))

    const session = await ort.InferenceSession.create(path)
    expect(session.inputNames).toEqual(['x'])
    expect(session.outputNames).toEqual(['y'])
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 0, 2, -1), [2, 2]) })
    const y = out.y!
    expect(y.dims).toEqual([2, 3])
    // [1,0]·W + b = [1.5, 1, 13]; [2,-1]·W + b = [-1.5, -2, 10]
    expect([...(y.data as Float32Array)]).toEqual([1.5, 1, 13, -1.5, -2, 10])
    await session.release()
  })

  it('encodes int64 constants, int/ints/float attributes and symbolic dims', async () => {
    const b = new GraphBuilder('attrs')
    const ids = b.input('ids', DataType.INT64, ['batch', 'sequence'])
    const table = b.weight('table', Float32Array.of(0, 0, 1, 2, 3, 4), [3, 2])
    const gathered = b.op('Gather', [table, ids], { axis: attr.int(0) })
    const seq = b.op('Shape', [ids], { start: attr.int(1), end: attr.int(2) })
    const scaled = b.op('Mul', [gathered, b.scalar('two', 2)])
    const summed = b.op('ReduceSum', [scaled, b.int64('axes', [-1])], { keepdims: attr.int(0) })
    const softmax = b.op('Softmax', [summed], { axis: attr.int(-1) })
    b.output('sums', summed, DataType.FLOAT, ['batch', 'sequence'])
    b.output('soft', softmax, DataType.FLOAT, ['batch', 'sequence'])
    b.output('seq', seq, DataType.INT64, [1])
    const path = join(dir, 'attrs.onnx')
    await writeModel(path, makeModel(b.build()))

    const session = await ort.InferenceSession.create(path)
    const out = await session.run({ ids: new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n]), [1, 3]) })
    expect([...(out.sums!.data as Float32Array)]).toEqual([0, 6, 14])
    expect([...(out.seq!.data as BigInt64Array)]).toEqual([3n])
    const probs = [...(out.soft!.data as Float32Array)]
    expect(probs.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6)
    expect(probs[2]).toBeGreaterThan(0.99)
    await session.release()
  })

  it('encodes tensor, floats and string attributes', async () => {
    const b = new GraphBuilder('constants')
    const x = b.input('x', DataType.FLOAT, [1, 3])
    const fromTensor = b.op('Constant', [], { value: attr.tensor(floatTensor('c', Float32Array.of(10, 20, 30), [1, 3])) })
    const fromFloats = b.op('Constant', [], { value_floats: attr.floats([0.5, 0.25, 2]) })
    const padded = b.op('Pad', [x, b.int64('pads', [0, 1, 0, 1])], { mode: attr.string('edge') })
    b.output('sum', b.op('Mul', [b.op('Add', [x, fromTensor]), fromFloats]), DataType.FLOAT, [1, 3])
    b.output('padded', padded, DataType.FLOAT, [1, 5])
    const path = join(dir, 'constants.onnx')
    await writeModel(path, makeModel(b.build()))

    const session = await ort.InferenceSession.create(path)
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [1, 3]) })
    expect([...(out.sum!.data as Float32Array)]).toEqual([5.5, 5.5, 66])
    expect([...(out.padded!.data as Float32Array)]).toEqual([1, 1, 2, 3, 3])
    await session.release()
  })
})
