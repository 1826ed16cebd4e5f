import { inputError } from '../core/errors.js'
import { QUANTIZATION_METADATA_KEY } from './quantize.js'
import { attr } from './onnx/graph-builder.js'
import {
  ATTRIBUTE,
  ATTRIBUTE_TYPE,
  defaultOpset,
  elemTypeOf,
  floatValues,
  GRAPH,
  hasFloat16Weights,
  type Initializer,
  isDefaultDomain,
  MODEL,
  Names,
  namesOf,
  NODE,
  parseInitializer,
  parseNode,
  repeatedFloats,
  stringOf,
  readModelGraph,
} from './onnx/graph-fields.js'
import { DataType, nodeMessage, tensorMessage, type NodeProto, type TensorProto } from './onnx/model-proto.js'
import { ProtoWriter } from './onnx/protobuf.js'
import { fieldString, readFields, toInt64, type WireField } from './onnx/proto-reader.js'

/**
 * float16 conversion of an ONNX model, the way onnxruntime's float16 tool
 * (`convert_float_to_float16(model, keep_io_types=True)`) does it: every float32 weight and
 * constant becomes float16, every Cast to float32 casts to float16 instead, so the whole graph
 * computes in half precision; float32 graph inputs and outputs keep their type through a Cast at
 * the edge, so callers feed and read float32 as before. A GPU (CUDA) runs this graph natively in
 * fp16; onnxruntime's CPU provider runs the ops it has no float16 kernel for in float32, by
 * inserting Casts around them at load time (its InsertCastTransformer).
 *
 * Like the int8 quantizer, the model is rewritten at the protobuf wire level and fields this code
 * does not change are copied byte for byte. Without type inference it must know how each op types
 * its output, so it converts only graphs made of the ops below (those of BERT-family exports and
 * the models embedform builds) and refuses the rest with the name of the op.
 */

export interface Fp16Options {
  /** Recorded in the model's metadata so a converted file names what it came from. */
  sourceSha256?: string
}

export interface Fp16Report {
  /** float32 initializers (weights) converted, their bytes before and after. */
  tensors: number
  floatWeightBytes: number
  fp16WeightBytes: number
  /** Constant/ConstantOfShape nodes and Casts to float32 retargeted to float16. */
  constants: number
  casts: number
  /** Values outside float16's usable range, clamped to ±1e4 or ±1e-7 (as onnxruntime's tool does). */
  clamped: number
  /** float32 graph inputs/outputs kept float32 through a Cast at the edge. */
  ioCasts: number
  bytesIn: number
  bytesOut: number
}

export interface Fp16Model {
  chunks: Uint8Array[]
  report: Fp16Report
}

export const FP16_METADATA_KEY = 'embedform.precision'

/**
 * Ops whose float outputs take the type of their float inputs (or, for Constant, ConstantOfShape
 * and Cast, of an attribute this converter rewrites), so turning every float source into float16
 * turns the whole graph into float16 consistently.
 */
export const FP16_OPS = new Set([
  'Abs', 'Add', 'And', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Div', 'Equal', 'Erf', 'Exp', 'Expand',
  'Flatten', 'Gather', 'GatherElements', 'Gemm', 'Greater', 'Identity', 'LayerNormalization', 'Less', 'Log', 'LogSoftmax',
  'MatMul', 'Max', 'Min', 'Mul', 'Neg', 'Not', 'Or', 'Pow', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceSum', 'Relu',
  'Reshape', 'Shape', 'Sigmoid', 'Size', 'Slice', 'Softmax', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Tile', 'Transpose',
  'Unsqueeze', 'Where',
])

/** onnxruntime's float16 tool defaults: constants are clipped into the range float16 keeps accurately. */
const MIN_POSITIVE = 1e-7
const MAX_FINITE = 1e4

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** IEEE 754 binary16 bits of `value`, rounded to nearest even (what numpy's astype(float16) gives). */
export function toHalfBits(value: number): number {
  f32[0] = value
  const x = u32[0] as number
  const sign = (x >>> 16) & 0x8000
  const exponent = (x >>> 23) & 0xff
  const mantissa = x & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0)
  const e = exponent - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    const m = mantissa | 0x800000
    const shift = 14 - e
    let half = m >>> shift
    const rest = m & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mantissa >>> 13)
  const rest = mantissa & 0x1fff
  // A carry out of the mantissa rolls into the exponent, which is the correct rounding.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++
  return sign | half
}

/** The number binary16 `bits` stand for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** Clamps like onnxruntime's tool (0, ±inf and NaN unchanged) and converts; counts the values clamped. */
function halfOf(values: ArrayLike<number>, counter: { clamped: number }): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) {
    let v = values[i] as number
    const a = Math.abs(v)
    if (a > 0 && a < MIN_POSITIVE) {
      v = Math.sign(v) * MIN_POSITIVE
      counter.clamped++
    } else if (a > MAX_FINITE && a !== Number.POSITIVE_INFINITY) {
      v = Math.sign(v) * MAX_FINITE
      counter.clamped++
    }
    out[i] = toHalfBits(v)
  }
  return out
}

function halfTensor(name: string, data: Uint16Array, dims: readonly number[]): TensorProto {
  return { name, dataType: DataType.FLOAT16, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
}

function convertError(message: string, file: string | undefined, hint?: string) {
  return inputError('E_CONVERT', message, { location: file ? { file } : undefined, ...(hint ? { hint } : {}) })
}

const OTHER_CONVERTER_HINT = 'convert it with onnxruntime\'s float16 tool (`onnxconverter_common.float16.convert_float_to_float16(model, keep_io_types=True)`) and set `model.file` to the result'

/** Converts the ONNX model in `bytes` to float16; `file` only labels errors. */
export function convertToFp16(bytes: Uint8Array, opts: Fp16Options & { file?: string } = {}): Fp16Model {
  const read = readModelGraph(bytes)
  if ('unreadable' in read) throw convertError(`${opts.file ?? 'the model'} is not a readable ONNX model: ${read.unreadable}`, opts.file)
  const { modelFields, graphFields } = read
  const metadata = namesOf(modelFields, MODEL.METADATA_PROPS)
  if (metadata.includes(FP16_METADATA_KEY)) throw convertError('the model is already converted to float16 by embedform', opts.file, 'convert the fp32 model instead')
  if (metadata.includes(QUANTIZATION_METADATA_KEY)) throw convertError('the model is int8-quantized', opts.file, 'convert the fp32 model instead')
  // Cast to float16 exists from opset 6; LayerNormalization and friends need newer ones anyway.
  if (defaultOpset(modelFields) < 6) throw convertError(`the model uses ONNX opset ${defaultOpset(modelFields)}; float16 conversion needs opset 6 or newer`, opts.file)

  const nodes = graphFields.filter((f) => f.field === GRAPH.NODE).map((f) => ({ field: f, node: parseNode(f) }))
  const unsupported = [...new Set(nodes.filter(({ node: n }) => !isDefaultDomain(n.domain) || !FP16_OPS.has(n.opType) || n.hasSubgraph).map(({ node: n }) => (isDefaultDomain(n.domain) ? n.opType : `${n.domain}.${n.opType}`)))]
  if (unsupported.length > 0) {
    throw convertError(`float16 conversion does not handle the op${unsupported.length > 1 ? 's' : ''} ${unsupported.sort().join(', ')} in this model`, opts.file, OTHER_CONVERTER_HINT)
  }
  const initializers = graphFields.filter((f) => f.field === GRAPH.INITIALIZER).map(parseInitializer)
  if (hasFloat16Weights(initializers)) throw convertError('the model already has float16 weights', opts.file, 'use it as it is (`model.file`), without `quantize: fp16`')
  if (initializers.some((t) => t.external)) {
    throw convertError('the model keeps its weights in external data files, which conversion does not read', opts.file, 'export the model as a single .onnx file (models under 2 GB fit in one)')
  }
  const initializerNames = new Set(initializers.map((t) => t.name))

  const names = new Names()
  for (const { node: n } of nodes) {
    names.add(n.name)
    n.outputs.forEach((o) => names.add(o))
  }
  for (const f of graphFields.filter((x) => x.field === GRAPH.INPUT || x.field === GRAPH.OUTPUT)) names.add(stringOf(readFields(f.bytes ?? new Uint8Array()), 1))
  initializerNames.forEach((n) => names.add(n))

  const report: Fp16Report = { tensors: 0, floatWeightBytes: 0, fp16WeightBytes: 0, constants: 0, casts: 0, clamped: 0, ioCasts: 0, bytesIn: bytes.length, bytesOut: 0 }
  const counter = { clamped: 0 }
  const valueInfoName = (f: WireField) => stringOf(readFields(f.bytes ?? new Uint8Array()), 1)

  // float32 inputs are cast to float16 once, at the top; float32 outputs are computed in float16
  // under a new name and cast back to float32 under their own, at the bottom.
  const renamed = new Map<string, string>()
  const edgeCasts: { first: NodeProto[]; last: NodeProto[] } = { first: [], last: [] }
  for (const f of graphFields.filter((x) => x.field === GRAPH.INPUT)) {
    const name = valueInfoName(f)
    if (initializerNames.has(name) || elemTypeOf(f) !== DataType.FLOAT) continue
    const half = names.unique(`${name}_fp16`)
    renamed.set(name, half)
    edgeCasts.first.push({ name: names.unique(`${name}_Cast_fp16`), opType: 'Cast', inputs: [name], outputs: [half], attributes: { to: attr.int(DataType.FLOAT16) } })
  }
  const graphInputs = new Set(namesOf(graphFields, GRAPH.INPUT))
  for (const f of graphFields.filter((x) => x.field === GRAPH.OUTPUT)) {
    const name = valueInfoName(f)
    if (elemTypeOf(f) !== DataType.FLOAT) continue
    // Only a node's output can be renamed to its float16 value and cast back under its own name.
    if (graphInputs.has(name) || initializerNames.has(name)) throw convertError(`graph output ${name} is a graph input or a weight, not computed by a node`, opts.file, OTHER_CONVERTER_HINT)
    const half = names.unique(`${name}_fp16`)
    renamed.set(name, half)
    edgeCasts.last.push({ name: names.unique(`${name}_Cast_fp32`), opType: 'Cast', inputs: [half], outputs: [name], attributes: { to: attr.int(DataType.FLOAT) } })
  }
  report.ioCasts = edgeCasts.first.length + edgeCasts.last.length

  const convertTensor = (t: Initializer, name = t.name): ProtoWriter => {
    const values = floatValues(t)
    report.floatWeightBytes += values.byteLength
    report.fp16WeightBytes += values.length * 2
    return tensorMessage(halfTensor(name, halfOf(values, counter), t.dims))
  }

  const graph = new ProtoWriter()
  for (const n of edgeCasts.first) graph.message(GRAPH.NODE, nodeMessage(n))
  const nodeOf = new Map(nodes.map(({ field, node }) => [field.raw, node]))
  for (const f of graphFields) {
    if (f.field === GRAPH.VALUE_INFO) continue // intermediate types changed; onnxruntime infers them again
    if (f.field === GRAPH.INPUT && initializerNames.has(valueInfoName(f))) continue // an overridable weight would keep a float32 type
    if (f.field === GRAPH.INITIALIZER) {
      const t = parseInitializer(f)
      if (t.dataType !== DataType.FLOAT) graph.preEncoded(f.raw)
      else {
        try {
          graph.message(GRAPH.INITIALIZER, convertTensor(t))
        } catch (cause) {
          throw convertError(`the model is not a readable ONNX model: ${(cause as Error).message}`, opts.file)
        }
        report.tensors++
      }
      continue
    }
    if (f.field !== GRAPH.NODE) {
      graph.preEncoded(f.raw)
      continue
    }
    const n = nodeOf.get(f.raw)
    const rewritten = n && rewriteNode(f, n.opType, renamed, convertTensor, report)
    if (rewritten) graph.message(GRAPH.NODE, rewritten)
    else graph.preEncoded(f.raw)
  }
  for (const n of edgeCasts.last) graph.message(GRAPH.NODE, nodeMessage(n))
  report.clamped += counter.clamped

  const model = new ProtoWriter()
  for (const f of modelFields) {
    if (f.field === MODEL.GRAPH) model.message(MODEL.GRAPH, graph)
    else model.preEncoded(f.raw)
  }
  const provenance = JSON.stringify({ method: 'fp16', keepIoTypes: true, ...(opts.sourceSha256 ? { sourceSha256: opts.sourceSha256 } : {}) })
  model.message(MODEL.METADATA_PROPS, new ProtoWriter().string(1, FP16_METADATA_KEY).string(2, provenance))
  const chunks = model.finish()
  report.bytesOut = chunks.reduce((a, c) => a + c.length, 0)
  return { chunks, report }
}

/**
 * The node with float16 in place of float32: renamed inputs/outputs, `Cast(to=FLOAT)` → FLOAT16,
 * Constant/ConstantOfShape values in float16. Undefined when nothing changes (the caller copies it).
 */
function rewriteNode(
  f: WireField,
  opType: string,
  renamed: ReadonlyMap<string, string>,
  convertTensor: (t: Initializer, name?: string) => ProtoWriter,
  report: Fp16Report,
): ProtoWriter | undefined {
  const fields = readFields(f.bytes ?? new Uint8Array())
  let changed = false
  const out = new ProtoWriter()
  let hasValue = false
  for (const x of fields) {
    if ((x.field === NODE.INPUT || x.field === NODE.OUTPUT) && renamed.has(fieldString(x))) {
      out.string(x.field, renamed.get(fieldString(x)) as string)
      changed = true
      continue
    }
    if (x.field !== NODE.ATTRIBUTE) {
      out.preEncoded(x.raw)
      continue
    }
    const a = readFields(x.bytes ?? new Uint8Array())
    const name = stringOf(a, ATTRIBUTE.NAME)
    const attribute = rewriteAttribute(opType, name, a, convertTensor, report)
    if (name === 'value' || name === 'value_float' || name === 'value_floats') hasValue = true
    if (attribute) {
      out.message(NODE.ATTRIBUTE, attribute)
      changed = true
    } else out.preEncoded(x.raw)
  }
  // ConstantOfShape without a value fills float32 zeros: give it a float16 zero.
  if (opType === 'ConstantOfShape' && !hasValue) {
    out.message(NODE.ATTRIBUTE, tensorAttribute('value', tensorMessage(halfTensor('value', Uint16Array.of(0), [1]))))
    report.constants++
    changed = true
  }
  return changed ? out : undefined
}

function tensorAttribute(name: string, tensor: ProtoWriter): ProtoWriter {
  return new ProtoWriter().string(ATTRIBUTE.NAME, name).message(ATTRIBUTE.TENSOR, tensor).int(ATTRIBUTE.TYPE, ATTRIBUTE_TYPE.TENSOR)
}

function rewriteAttribute(
  opType: string,
  name: string,
  a: WireField[],
  convertTensor: (t: Initializer, name?: string) => ProtoWriter,
  report: Fp16Report,
): ProtoWriter | undefined {
  if (opType === 'Cast' && name === 'to') {
    const to = a.find((x) => x.field === ATTRIBUTE.INT)?.int
    if (to === undefined || toInt64(to) !== DataType.FLOAT) return undefined
    report.casts++
    return new ProtoWriter().string(ATTRIBUTE.NAME, 'to').int(ATTRIBUTE.INT, DataType.FLOAT16).int(ATTRIBUTE.TYPE, ATTRIBUTE_TYPE.INT)
  }
  if (opType !== 'Constant' && opType !== 'ConstantOfShape') return undefined
  const counter = { clamped: 0 }
  let tensor: ProtoWriter | undefined
  if (name === 'value') {
    const t = a.find((x) => x.field === ATTRIBUTE.TENSOR)
    const parsed = t && parseInitializer(t)
    if (!parsed || parsed.dataType !== DataType.FLOAT) return undefined
    tensor = convertTensor(parsed, parsed.name)
  } else if (opType === 'Constant' && name === 'value_float') {
    const bits = a.find((x) => x.field === ATTRIBUTE.FLOAT)?.bits ?? 0
    tensor = tensorMessage(halfTensor('value', halfOf([new DataView(Uint32Array.of(bits).buffer).getFloat32(0, true)], counter), []))
  } else if (opType === 'Constant' && name === 'value_floats') {
    const values = repeatedFloats(a, ATTRIBUTE.FLOATS)
    tensor = tensorMessage(halfTensor('value', halfOf(values, counter), [values.length]))
  } else return undefined
  report.clamped += counter.clamped
  report.constants++
  return tensorAttribute('value', tensor)
}
