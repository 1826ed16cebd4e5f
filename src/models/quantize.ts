import { inputError } from '../core/errors.js'
import { attr } from './onnx/graph-builder.js'
import { DataType, type NodeProto, nodeMessage, type TensorProto, tensorMessage } from './onnx/model-proto.js'
import {
  defaultOpset,
  floatValues,
  GRAPH,
  hasFloat16Weights,
  type Initializer,
  isDefaultDomain,
  MODEL,
  Names,
  namesOf,
  type Node,
  parseInitializer,
  parseNode,
  readModelGraph,
} from './onnx/graph-fields.js'
import { ProtoWriter } from './onnx/protobuf.js'

/**
 * Dynamic int8 quantization of an ONNX model, the way onnxruntime's `quantize_dynamic` does it:
 * constant MatMul weights become int8 (symmetric, one scale per output column), activations are
 * quantized per batch at run time (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by
 * a_scale·w_scale, a pattern onnxruntime fuses into one DynamicQuantizeMatMul kernel on CPU).
 * Embedding tables read by Gather become int8 with one scale per row, so a static-embedding model
 * (GloVe) is quantized too and the file shrinks about 4×.
 *
 * The model is rewritten at the protobuf wire level: every field this code does not change is
 * copied byte for byte, so any exporter's model keeps its metadata, shapes and attributes.
 */

export interface QuantizeOptions {
  /** Also quantize constant Gather tables (embeddings). Default true. */
  gather?: boolean
  /** Recorded in the model's metadata so a quantized file names what it came from. */
  sourceSha256?: string
}

export interface QuantizeReport {
  matmuls: number
  gathers: number
  /** Bytes of float weights replaced, and of the int8 weights + scales replacing them. */
  floatWeightBytes: number
  int8WeightBytes: number
  bytesIn: number
  bytesOut: number
}

export interface QuantizedModel {
  chunks: Uint8Array[]
  report: QuantizeReport
}

export const QUANTIZATION_METADATA_KEY = 'embedform.quantization'
const QUANTIZED_OPS = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul', 'DequantizeLinear'])
/** DynamicQuantizeLinear entered the default domain in opset 11. */
const MIN_OPSET = 11
const INT8_MAX = 127

type Rewrite = { kind: 'matmul'; weight: string } | { kind: 'gather'; table: string }

function int8Tensor(name: string, data: Int8Array, dims: readonly number[]): TensorProto {
  return { name, dataType: DataType.INT8, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
}

function floatTensorOf(name: string, data: Float32Array, dims: readonly number[]): TensorProto {
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
}

/**
 * Symmetric int8 with one scale per slice: `slices` slices of `width` values, where value j of
 * slice s sits at `at(s, j)`. A slice of zeros gets scale 1 so dequantizing gives zeros, not NaN.
 */
function quantizeSlices(w: Float32Array, slices: number, width: number, at: (s: number, j: number) => number): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(w.length)
  const scales = new Float32Array(slices)
  for (let s = 0; s < slices; s++) {
    let max = 0
    for (let j = 0; j < width; j++) max = Math.max(max, Math.abs(w[at(s, j)] ?? 0))
    const scale = max > 0 ? max / INT8_MAX : 1
    scales[s] = scale
    for (let j = 0; j < width; j++) {
      const i = at(s, j)
      q[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round((w[i] ?? 0) / scale)))
    }
  }
  return { q, scales }
}

function modelError(message: string, file: string | undefined, hint?: string) {
  return inputError('E_QUANTIZE', message, { location: file ? { file } : undefined, ...(hint ? { hint } : {}) })
}

/** Quantizes the ONNX model in `bytes`; `file` only labels errors. */
export function quantizeModel(bytes: Uint8Array, opts: QuantizeOptions & { file?: string } = {}): QuantizedModel {
  const read = readModelGraph(bytes)
  if ('unreadable' in read) throw modelError(`${opts.file ?? 'the model'} is not a readable ONNX model: ${read.unreadable}`, opts.file)
  const { modelFields, graphFields } = read

  const version = defaultOpset(modelFields)
  if (version < MIN_OPSET) {
    throw modelError(`the model uses ONNX opset ${version}; int8 dynamic quantization needs opset ${MIN_OPSET} or newer`, opts.file, 're-export the model with a newer opset (e.g. `optimum-cli export onnx --opset 17`)')
  }
  if (namesOf(modelFields, MODEL.METADATA_PROPS).includes(QUANTIZATION_METADATA_KEY)) {
    throw modelError('the model is already quantized by embedform', opts.file, 'quantize the fp32 model instead')
  }

  const nodes = graphFields.filter((f) => f.field === GRAPH.NODE).map(parseNode)
  if (nodes.some((n) => QUANTIZED_OPS.has(n.opType))) {
    throw modelError('the model already contains quantized operators', opts.file, 'quantize the fp32 model instead (e.g. onnx/model.onnx rather than onnx/model_quantized.onnx)')
  }
  const nodeOf = new Map(nodes.map((n) => [n.raw, n]))
  const parsedInitializers = graphFields.filter((f) => f.field === GRAPH.INITIALIZER).map(parseInitializer)
  const initializers = new Map(parsedInitializers.map((t) => [t.name, t]))
  const initializerNames = new Map(parsedInitializers.map((t) => [t.raw, t.name]))
  if (hasFloat16Weights(parsedInitializers)) {
    throw modelError('the model has float16 weights; int8 quantization reads float32 weights', opts.file, 'quantize the fp32 model instead (e.g. onnx/model.onnx rather than onnx/model_fp16.onnx)')
  }
  if (parsedInitializers.some((t) => t.external)) {
    throw modelError('the model keeps its weights in external data files, which quantization does not read', opts.file, 'export the model as a single .onnx file (models under 2 GB fit in one)')
  }
  const graphInputs = new Set(namesOf(graphFields, GRAPH.INPUT))
  const constant = (name: string | undefined): Initializer | undefined => {
    const t = name === undefined ? undefined : initializers.get(name)
    return t && !graphInputs.has(t.name) ? t : undefined
  }
  const floatMatrix = (t: Initializer | undefined): t is Initializer => !!t && t.dataType === DataType.FLOAT && t.dims.length === 2

  const names = new Names()
  for (const n of nodes) {
    names.add(n.name)
    n.outputs.forEach((o) => names.add(o))
  }
  for (const name of [...initializers.keys(), ...graphInputs]) names.add(name)

  const rewrites = new Map<Node, Rewrite>()
  for (const n of nodes) {
    if (!isDefaultDomain(n.domain)) continue
    if (n.opType === 'MatMul' && floatMatrix(constant(n.inputs[1])) && !constant(n.inputs[0])) rewrites.set(n, { kind: 'matmul', weight: n.inputs[1] as string })
    if (opts.gather !== false && n.opType === 'Gather' && (n.ints.get('axis') ?? 0) === 0 && floatMatrix(constant(n.inputs[0])) && !constant(n.inputs[1])) {
      rewrites.set(n, { kind: 'gather', table: n.inputs[0] as string })
    }
  }

  // A float weight is dropped only when every reader of it was rewritten; a subgraph may read
  // outer initializers invisibly, so a model with subgraphs keeps them all.
  const keepFloat = new Set<string>()
  const anySubgraph = nodes.some((n) => n.hasSubgraph)
  for (const n of nodes) {
    const r = rewrites.get(n)
    n.inputs.forEach((input, slot) => {
      const quantizedSlot = r && ((r.kind === 'matmul' && slot === 1) || (r.kind === 'gather' && slot === 0))
      if (!quantizedSlot) keepFloat.add(input)
    })
  }
  for (const name of namesOf(graphFields, GRAPH.OUTPUT)) keepFloat.add(name)

  const report: QuantizeReport = { matmuls: 0, gathers: 0, floatWeightBytes: 0, int8WeightBytes: 0, bytesIn: bytes.length, bytesOut: 0 }
  const quantizedWeights = new Map<string, { q: string; scale: string }>()
  const newInitializers: TensorProto[] = []
  const weightFor = (name: string, kind: Rewrite['kind']) => {
    const key = `${kind}:${name}`
    const done = quantizedWeights.get(key)
    if (done) return done
    const t = initializers.get(name) as Initializer
    const [rows = 0, cols = 0] = t.dims
    let w: Float32Array
    try {
      w = floatValues(t)
    } catch (cause) {
      throw modelError(`the model is not a readable ONNX model: ${(cause as Error).message}`, opts.file)
    }
    const { q, scales } =
      kind === 'matmul' ? quantizeSlices(w, cols, rows, (c, r) => r * cols + c) : quantizeSlices(w, rows, cols, (r, c) => r * cols + c)
    const out = { q: names.unique(`${name}_int8`), scale: names.unique(`${name}_scale`) }
    newInitializers.push(int8Tensor(out.q, q, t.dims), floatTensorOf(out.scale, scales, kind === 'matmul' ? [cols] : [rows, 1]))
    report.floatWeightBytes += w.byteLength
    report.int8WeightBytes += q.byteLength + scales.byteLength
    quantizedWeights.set(key, out)
    return out
  }

  const activations = new Map<string, { q: string; scale: string; zero: string }>()
  const graph = new ProtoWriter()
  const emit = (n: NodeProto) => graph.message(GRAPH.NODE, nodeMessage(n))
  const op = (base: string, opType: string, inputs: string[], outputs: string[], attributes: NodeProto['attributes'] = {}) =>
    emit({ name: names.unique(base), opType, inputs, outputs, attributes })

  for (const f of graphFields) {
    if (f.field === GRAPH.INITIALIZER) {
      const name = initializerNames.get(f.raw) ?? ''
      const replaced = quantizedWeights.has(`matmul:${name}`) || quantizedWeights.has(`gather:${name}`)
      if (!replaced || keepFloat.has(name) || anySubgraph) graph.preEncoded(f.raw)
      continue
    }
    if (f.field !== GRAPH.NODE) {
      graph.preEncoded(f.raw)
      continue
    }
    const n = nodeOf.get(f.raw) as Node
    const r = rewrites.get(n)
    const base = n.name || (n.outputs[0] ?? 'node')
    const out = n.outputs[0] as string
    if (!r) {
      graph.preEncoded(f.raw)
    } else if (r.kind === 'matmul') {
      const a = n.inputs[0] as string
      let act = activations.get(a)
      if (!act) {
        act = { q: names.unique(`${a}_quantized`), scale: names.unique(`${a}_scale`), zero: names.unique(`${a}_zero_point`) }
        op(`${a}_DynamicQuantizeLinear`, 'DynamicQuantizeLinear', [a], [act.q, act.scale, act.zero])
        activations.set(a, act)
      }
      const w = weightFor(r.weight, 'matmul')
      const integer = names.unique(`${out}_int32`)
      const asFloat = names.unique(`${out}_float`)
      const scale = names.unique(`${out}_scale`)
      op(`${base}_MatMulInteger`, 'MatMulInteger', [act.q, w.q, act.zero], [integer])
      op(`${base}_Cast`, 'Cast', [integer], [asFloat], { to: attr.int(DataType.FLOAT) })
      op(`${base}_scale_Mul`, 'Mul', [act.scale, w.scale], [scale])
      op(`${base}_output_Mul`, 'Mul', [asFloat, scale], [out])
      report.matmuls++
    } else {
      const ids = n.inputs[1] as string
      const w = weightFor(r.table, 'gather')
      const rows = names.unique(`${out}_int8`)
      const asFloat = names.unique(`${out}_float`)
      const scale = names.unique(`${out}_row_scale`)
      op(`${base}_int8`, 'Gather', [w.q, ids], [rows], { axis: attr.int(0) })
      op(`${base}_Cast`, 'Cast', [rows], [asFloat], { to: attr.int(DataType.FLOAT) })
      op(`${base}_scale`, 'Gather', [w.scale, ids], [scale], { axis: attr.int(0) })
      op(`${base}_Mul`, 'Mul', [asFloat, scale], [out])
      report.gathers++
    }
  }
  for (const t of newInitializers) graph.message(GRAPH.INITIALIZER, tensorMessage(t))

  const model = new ProtoWriter()
  for (const f of modelFields) {
    if (f.field === MODEL.GRAPH) model.message(MODEL.GRAPH, graph)
    else model.preEncoded(f.raw)
  }
  const provenance = JSON.stringify({ method: 'int8-dynamic', weights: 'symmetric per-channel', ...(opts.sourceSha256 ? { sourceSha256: opts.sourceSha256 } : {}) })
  model.message(MODEL.METADATA_PROPS, new ProtoWriter().string(1, QUANTIZATION_METADATA_KEY).string(2, provenance))
  const chunks = model.finish()
  report.bytesOut = chunks.reduce((a, c) => a + c.length, 0)
  return { chunks, report }
}
