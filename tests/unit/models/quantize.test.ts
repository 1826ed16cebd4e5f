import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import { bertGraph } from '../../../src/models/bert-graph.js'
import { BERT_TINY_SHAPE } from '../../../src/models/synthetic-bert.js'
import { attr, GraphBuilder, makeModel } from '../../../src/models/onnx/graph-builder.js'
import { DataType, encodeModel, type ModelProto } from '../../../src/models/onnx/model-proto.js'
import { ProtoWriter } from '../../../src/models/onnx/protobuf.js'
import { fieldString, readFields, repeatedInts } from '../../../src/models/onnx/proto-reader.js'
import { quantizeModel } from '../../../src/models/quantize.js'
import { ensureQuantized } from '../../../src/models/quantized-cache.js'
import { cosine } from '../../../src/encoder/pooling.js'
import { floats, int64, tempDir } from './helpers.js'

const concat = (chunks: Uint8Array[]) => Buffer.concat(chunks)
const bytesOf = (m: ModelProto) => concat(encodeModel(m))

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes)
}

/** Op types of the graph in a serialized model, in node order. */
function opTypes(bytes: Uint8Array): string[] {
  const graph = readFields(bytes).find((f) => f.field === 7)?.bytes as Uint8Array
  return readFields(graph)
    .filter((f) => f.field === 1)
    .map((f) => fieldString(readFields(f.bytes as Uint8Array).find((x) => x.field === 4) as never))
}

let dir: { path: string; cleanup: () => Promise<void> }
beforeAll(async () => {
  dir = await tempDir('quantize')
})
afterAll(() => dir.cleanup())

describe('proto reader', () => {
  it('reads back what the writer wrote: varints, negative int64, packed ints, strings, nested spans', () => {
    const inner = new ProtoWriter().string(1, 'ab')
    const bytes = new ProtoWriter().int(1, 150).int(2, -1).packedInts(3, [1, 300, 7]).message(4, inner).float(5, 1.5).toBytes()
    const fields = readFields(bytes)
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3, 4, 5])
    expect(fields[0]?.int).toBe(150n)
    expect(BigInt.asIntN(64, fields[1]?.int ?? 0n)).toBe(-1n)
    expect(repeatedInts(fields, 3)).toEqual([1n, 300n, 7n])
    expect(fieldString(readFields(fields[3]?.bytes as Uint8Array)[0] as never)).toBe('ab')
    expect(new DataView(Uint32Array.of(fields[4]?.bits ?? 0).buffer).getFloat32(0, true)).toBe(1.5)
    expect(Buffer.concat(fields.map((f) => f.raw))).toEqual(Buffer.from(bytes))
  })

  it('rejects a field that runs past the end of its message', () => {
    expect(() => readFields(Uint8Array.of(0x0a, 0x05, 0x61))).toThrow(/past the end/)
  })
})

describe('quantizeModel', () => {
  it('turns a BERT into the DynamicQuantizeLinear/MatMulInteger pattern onnxruntime runs, close to fp32', async () => {
    const fp32 = bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 7, 'none')))
    const { chunks, report } = quantizeModel(fp32)
    const int8 = concat(chunks)
    // 2 layers × (q, k, v, attention out, intermediate, output) and the three embedding tables.
    expect(report).toMatchObject({ matmuls: 12, gathers: 3 })
    expect(report.bytesOut).toBe(int8.length)
    expect(report.bytesOut).toBeLessThan(report.bytesIn / 3)
    const ops = opTypes(int8)
    expect(ops.filter((o) => o === 'MatMulInteger')).toHaveLength(12)
    // q, k and v read the same activation: it is quantized once per layer (plus once per other input).
    expect(ops.filter((o) => o === 'DynamicQuantizeLinear')).toHaveLength(2 * 4)
    // Attention's two activation × activation products have no constant weight and stay float.
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(2 * 2)

    const ids = int64([
      [101, 7592, 2088, 102, 0],
      [101, 2023, 2003, 1037, 102],
    ])
    const feeds = { input_ids: ids, attention_mask: int64([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]), token_type_ids: int64([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]) }
    const a = floats((await (await session(fp32)).run(feeds)).last_hidden_state)
    const b = floats((await (await session(int8)).run(feeds)).last_hidden_state)
    expect(b).toHaveLength(a.length)
    expect(cosine(a, b)).toBeGreaterThan(0.999)
    expect(a).not.toEqual(b)
  })

  it('keeps every field it does not rewrite byte for byte, and records its provenance', () => {
    const b = new GraphBuilder('g')
    const x = b.input('x', DataType.FLOAT, ['batch', 2])
    b.output('y', b.op('MatMul', [x, b.weight('w', Float32Array.of(1, 2, 3, 4), [2, 2])]), DataType.FLOAT, ['batch', 2])
    const model = new ProtoWriter()
    for (const c of encodeModel(makeModel(b.build()))) model.preEncoded(c)
    // doc_string (field 6) and a metadata entry (field 14) the quantizer knows nothing about.
    model.string(6, 'exported by a test').message(14, new ProtoWriter().string(1, 'author').string(2, 'someone'))
    const out = concat(quantizeModel(model.toBytes(), { sourceSha256: 'abc' }).chunks)
    const fields = readFields(out)
    expect(fieldString(fields.find((f) => f.field === 6) as never)).toBe('exported by a test')
    const meta = fields.filter((f) => f.field === 14).map((f) => readFields(f.bytes as Uint8Array).map(fieldString))
    expect(meta[0]).toEqual(['author', 'someone'])
    expect(meta[1]?.[0]).toBe('embedform.quantization')
    expect(JSON.parse(meta[1]?.[1] ?? '{}')).toMatchObject({ method: 'int8-dynamic', sourceSha256: 'abc' })
  })

  it('keeps a float weight that another operator still reads', async () => {
    const b = new GraphBuilder('shared')
    const x = b.input('x', DataType.FLOAT, ['batch', 2])
    const w = b.weight('w', Float32Array.of(0.5, -1, 2, 0.25), [2, 2])
    b.output('y', b.op('Add', [b.op('MatMul', [x, w]), b.op('ReduceSum', [w], { keepdims: attr.int(0) })]), DataType.FLOAT, ['batch', 2])
    const fp32 = bytesOf(makeModel(b.build()))
    const int8 = concat(quantizeModel(fp32).chunks)
    const feeds = { x: new ort.Tensor('float32', Float32Array.of(1, 2, -3, 0.5), [2, 2]) }
    const want = floats((await (await session(fp32)).run(feeds)).y)
    const got = floats((await (await session(int8)).run(feeds)).y)
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? Number.NaN, 1))
  })

  it('refuses a model it already quantized, an old opset, and bytes that are not ONNX', () => {
    const b = new GraphBuilder('g')
    const x = b.input('x', DataType.FLOAT, ['batch', 2])
    b.output('y', b.op('MatMul', [x, b.weight('w', Float32Array.of(1, 2, 3, 4), [2, 2])]), DataType.FLOAT, ['batch', 2])
    const once = concat(quantizeModel(bytesOf(makeModel(b.build()))).chunks)
    const attempt = (bytes: Uint8Array) => {
      try {
        quantizeModel(bytes, { file: 'model.onnx' })
      } catch (e) {
        return e as EmbedformError
      }
      throw new Error('expected an error')
    }
    expect(attempt(once)).toMatchObject({ code: 'E_QUANTIZE', message: expect.stringMatching(/already quantized/) })
    expect(attempt(bytesOf(makeModel(b.build(), [{ domain: '', version: 10 }])))).toMatchObject({ message: expect.stringMatching(/opset 10/) })
    expect(attempt(Uint8Array.of(0x3a, 0xff, 0x01))).toMatchObject({ code: 'E_QUANTIZE', location: { file: 'model.onnx' } })

    // The same model with one more initializer whose bytes live in an external file (data_location = 1).
    const fields = readFields(bytesOf(makeModel(b.build())))
    const external = new ProtoWriter().packedInts(1, [2, 2]).int(2, DataType.FLOAT).string(8, 'ext').int(14, 1)
    const withExternal = new ProtoWriter()
    for (const f of fields) {
      if (f.field !== 7) withExternal.preEncoded(f.raw)
      else withExternal.message(7, new ProtoWriter().preEncoded(f.bytes as Uint8Array).message(5, external))
    }
    expect(attempt(withExternal.toBytes())).toMatchObject({ message: expect.stringMatching(/external data/) })
  })
})

describe('ensureQuantized', () => {
  it('caches by content: a second call reuses the file, another path to the same bytes too', async () => {
    const fp32 = bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 3, 'none')))
    const a = join(dir.path, 'a.onnx')
    const b = join(dir.path, 'b.onnx')
    await writeFile(a, fp32)
    await writeFile(b, fp32)
    const env = { EMBEDFORM_CACHE_DIR: join(dir.path, 'cache') }
    const first = await ensureQuantized(a, { env })
    expect(first.built).toBe(true)
    expect(first.path.startsWith(join(dir.path, 'cache', 'models', 'int8'))).toBe(true)
    const again = await ensureQuantized(b, { env })
    expect(again).toMatchObject({ built: false, path: first.path })
    expect(again.manifest.onnx.sha256).toBe(first.manifest.onnx.sha256)
    expect((await readFile(first.path)).length).toBe(first.manifest.report.bytesOut)
  })

  it('removes the temporary file a killed quantization left behind', async () => {
    const src = join(dir.path, 'd.onnx')
    await writeFile(src, bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 9, 'none'))))
    const env = { EMBEDFORM_CACHE_DIR: join(dir.path, 'cache-abandoned') }
    const first = await ensureQuantized(src, { env })
    // pid 2^22 + 1 is above Linux's pid_max ceiling, so it is never a live process.
    const leftover = `${first.path}.tmp-4194305-deadbeef`
    await writeFile(leftover, 'partial')
    await ensureQuantized(src, { env, force: true })
    await expect(readFile(leftover)).rejects.toThrow(/ENOENT/)
  })

  it('concurrent first uses in one process quantize once and all get the file', async () => {
    const src = join(dir.path, 'c.onnx')
    await writeFile(src, bytesOf(makeModel(bertGraph(BERT_TINY_SHAPE, 5, 'none'))))
    const env = { EMBEDFORM_CACHE_DIR: join(dir.path, 'cache-concurrent') }
    const all = await Promise.all(Array.from({ length: 4 }, () => ensureQuantized(src, { env })))
    expect(new Set(all.map((q) => q.path)).size).toBe(1)
    expect(all.filter((q) => q.built)).toHaveLength(4)
    expect((await ensureQuantized(src, { env })).built).toBe(false)
  })
})
