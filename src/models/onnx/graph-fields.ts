import { DataType } from './model-proto.js'
import { fieldString, ProtoDecodeError, readFields, repeatedInts, toInt64, type WireField } from './proto-reader.js'

/**
 * What the model rewriters (int8 quantization, fp16 conversion) read of an ONNX model at the wire
 * level: the field numbers of onnx.proto and the few messages they need parsed. Everything else is
 * copied byte for byte from the `raw` spans.
 */

export const MODEL = { GRAPH: 7, OPSET_IMPORT: 8, METADATA_PROPS: 14 }
export const GRAPH = { NODE: 1, INITIALIZER: 5, INPUT: 11, OUTPUT: 12, VALUE_INFO: 13 }
export const NODE = { INPUT: 1, OUTPUT: 2, NAME: 3, OP_TYPE: 4, ATTRIBUTE: 5, DOMAIN: 7 }
export const ATTRIBUTE = { NAME: 1, FLOAT: 2, INT: 3, TENSOR: 5, GRAPH: 6, FLOATS: 7, GRAPHS: 11, TYPE: 20 }
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, TENSOR: 4, FLOATS: 6 }
export const TENSOR = { DIMS: 1, DATA_TYPE: 2, FLOAT_DATA: 4, NAME: 8, RAW_DATA: 9, DATA_LOCATION: 14 }
const EXTERNAL = 1n

export interface Node {
  raw: Uint8Array
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  ints: Map<string, number>
  hasSubgraph: boolean
}

export interface Initializer {
  raw: Uint8Array
  name: string
  dataType: number
  dims: number[]
  external: boolean
  fields: WireField[]
}

/** A string field of a message ('' when absent, as protobuf defaults it). */
export function stringOf(fields: readonly WireField[], field: number): string {
  const f = fields.find((x) => x.field === field)
  return f ? fieldString(f) : ''
}

/** The `name` (field 1) of every message in `fields` numbered `field`: value infos, opset domains, metadata keys. */
export function namesOf(fields: readonly WireField[], field: number): string[] {
  return fields.filter((f) => f.field === field).map((f) => stringOf(readFields(f.bytes ?? new Uint8Array()), 1))
}

export function parseNode(f: WireField): Node {
  const fields = readFields(f.bytes ?? new Uint8Array())
  const ints = new Map<string, number>()
  let hasSubgraph = false
  for (const a of fields.filter((x) => x.field === NODE.ATTRIBUTE)) {
    const af = readFields(a.bytes ?? new Uint8Array())
    const name = stringOf(af, ATTRIBUTE.NAME)
    const i = af.find((x) => x.field === ATTRIBUTE.INT)?.int
    if (i !== undefined) ints.set(name, toInt64(i))
    if (af.some((x) => x.field === ATTRIBUTE.GRAPH || x.field === ATTRIBUTE.GRAPHS)) hasSubgraph = true
  }
  const str = (n: number) => stringOf(fields, n)
  return {
    raw: f.raw,
    name: str(NODE.NAME),
    opType: str(NODE.OP_TYPE),
    domain: str(NODE.DOMAIN),
    inputs: fields.filter((x) => x.field === NODE.INPUT).map(fieldString),
    outputs: fields.filter((x) => x.field === NODE.OUTPUT).map(fieldString),
    ints,
    hasSubgraph,
  }
}

/** A TensorProto: an initializer, or the tensor of a Constant node's attribute. */
export function parseInitializer(f: WireField): Initializer {
  const fields = readFields(f.bytes ?? new Uint8Array())
  return {
    raw: f.raw,
    name: stringOf(fields, TENSOR.NAME),
    dataType: Number(fields.find((x) => x.field === TENSOR.DATA_TYPE)?.int ?? 0n),
    dims: repeatedInts(fields, TENSOR.DIMS).map(toInt64),
    external: fields.find((x) => x.field === TENSOR.DATA_LOCATION)?.int === EXTERNAL,
    fields,
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)

/** The values of a repeated float field (`float_data`, an attribute's `floats`), packed or not. */
export function repeatedFloats(fields: readonly WireField[], field: number): number[] {
  const values: number[] = []
  for (const f of fields.filter((x) => x.field === field)) {
    if (f.bits !== undefined) values.push(new DataView(Uint32Array.of(f.bits).buffer).getFloat32(0, true))
    else if (f.bytes) for (let i = 0; i + 4 <= f.bytes.length; i += 4) values.push(view(f.bytes).getFloat32(i, true))
  }
  return values
}

/** The float values of a tensor, from raw_data or float_data (packed or not). */
export function floatValues(t: Initializer): Float32Array {
  const count = t.dims.reduce((a, d) => a * d, 1)
  const raw = t.fields.find((x) => x.field === TENSOR.RAW_DATA)?.bytes
  let out: Float32Array
  if (raw) {
    out = new Float32Array(raw.byteLength / 4)
    new Uint8Array(out.buffer).set(raw)
  } else {
    out = Float32Array.from(repeatedFloats(t.fields, TENSOR.FLOAT_DATA))
  }
  if (out.length !== count) throw new ProtoDecodeError(`initializer ${t.name} holds ${out.length} values but its dims ${JSON.stringify(t.dims)} need ${count}`)
  return out
}

/** The element type a graph input/output declares (ValueInfoProto.type.tensor_type.elem_type), 0 when it declares none. */
export function elemTypeOf(valueInfo: WireField): number {
  const type = readFields(valueInfo.bytes ?? new Uint8Array()).find((x) => x.field === 2)?.bytes
  const tensorType = type && readFields(type).find((x) => x.field === 1)?.bytes
  return Number((tensorType && readFields(tensorType).find((x) => x.field === 1)?.int) ?? 0n)
}

export const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx'

/** The model's default-domain opset version (0 when it imports none). */
export function defaultOpset(modelFields: readonly WireField[]): number {
  const opset = modelFields
    .filter((f) => f.field === MODEL.OPSET_IMPORT)
    .map((f) => readFields(f.bytes ?? new Uint8Array()))
    .find((o) => isDefaultDomain(stringOf(o, 1)))
  return toInt64(opset?.find((x) => x.field === 2)?.int ?? 0n)
}

/** Whether any initializer is already float16: such a model was converted before (or exported half precision). */
export const hasFloat16Weights = (initializers: readonly Initializer[]) => initializers.some((t) => t.dataType === DataType.FLOAT16)

/** Unique tensor/node names for what a rewriter adds. */
export class Names {
  private readonly used = new Set<string>()
  add(name: string): void {
    this.used.add(name)
  }
  unique(base: string): string {
    let name = base
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`
    this.used.add(name)
    return name
  }
}

/** The model's and its graph's fields, or the reason they cannot be read. */
export function readModelGraph(bytes: Uint8Array): { modelFields: WireField[]; graphFields: WireField[] } | { unreadable: string } {
  try {
    const modelFields = readFields(bytes)
    const graph = modelFields.find((f) => f.field === MODEL.GRAPH)
    if (!graph?.bytes) throw new ProtoDecodeError('no graph')
    return { modelFields, graphFields: readFields(graph.bytes) }
  } catch (cause) {
    return { unreadable: (cause as Error).message }
  }
}
