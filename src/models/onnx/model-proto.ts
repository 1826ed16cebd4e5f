import { ProtoWriter } from './protobuf.js'

/**
 * The subset of onnx.proto (onnx/onnx, IR version 8) our generated models use, with the field
 * numbers of the official schema. Weights are always raw_data, little-endian.
 */

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const
export type DataType = (typeof DataType)[keyof typeof DataType]

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const

export interface TensorProto {
  name: string
  dataType: DataType
  dims: readonly number[]
  /** Little-endian element bytes (Float32Array/BigInt64Array views are little-endian on every platform Node supports). */
  rawData: Uint8Array
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorProto }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }

export interface NodeProto {
  name: string
  opType: string
  domain?: string
  inputs: readonly string[]
  outputs: readonly string[]
  attributes?: Readonly<Record<string, AttributeValue>>
}

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string

export interface ValueInfoProto {
  name: string
  elemType: DataType
  shape: readonly Dim[]
}

export interface GraphProto {
  name: string
  nodes: readonly NodeProto[]
  initializers: readonly TensorProto[]
  inputs: readonly ValueInfoProto[]
  outputs: readonly ValueInfoProto[]
  valueInfo?: readonly ValueInfoProto[]
}

export interface OpsetImport {
  domain: string
  version: number
}

export interface ModelProto {
  irVersion: number
  opsetImports: readonly OpsetImport[]
  producerName: string
  producerVersion: string
  graph: GraphProto
}

export function tensorMessage(t: TensorProto): ProtoWriter {
  const w = new ProtoWriter()
  if (t.dims.length > 0) w.packedInts(1, t.dims)
  w.int(2, t.dataType)
  w.string(8, t.name)
  w.bytes(9, t.rawData)
  return w
}

function attribute(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name)
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).int(20, AttributeType.FLOAT)
      break
    case 'int':
      w.int(3, a.value).int(20, AttributeType.INT)
      break
    case 'string':
      w.string(4, a.value).int(20, AttributeType.STRING)
      break
    case 'tensor':
      w.message(5, tensorMessage(a.value)).int(20, AttributeType.TENSOR)
      break
    case 'floats':
      w.packedFloats(7, a.value).int(20, AttributeType.FLOATS)
      break
    case 'ints':
      w.packedInts(8, a.value).int(20, AttributeType.INTS)
      break
  }
  return w
}

export function nodeMessage(n: NodeProto): ProtoWriter {
  const w = new ProtoWriter()
  for (const i of n.inputs) w.string(1, i)
  for (const o of n.outputs) w.string(2, o)
  w.string(3, n.name)
  w.string(4, n.opType)
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, attribute(name, value))
  if (n.domain) w.string(7, n.domain)
  return w
}

function valueInfo(v: ValueInfoProto): ProtoWriter {
  const shape = new ProtoWriter()
  for (const d of v.shape) {
    const dim = new ProtoWriter()
    if (typeof d === 'number') dim.int(1, d)
    else dim.string(2, d)
    shape.message(1, dim)
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape)
  const type = new ProtoWriter().message(1, tensorType)
  return new ProtoWriter().string(1, v.name).message(2, type)
}

function graph(g: GraphProto): ProtoWriter {
  const w = new ProtoWriter()
  for (const n of g.nodes) w.message(1, nodeMessage(n))
  w.string(2, g.name)
  for (const t of g.initializers) w.message(5, tensorMessage(t))
  for (const i of g.inputs) w.message(11, valueInfo(i))
  for (const o of g.outputs) w.message(12, valueInfo(o))
  for (const v of g.valueInfo ?? []) w.message(13, valueInfo(v))
  return w
}

/** Serializes a model; the chunks concatenated are the .onnx file. */
export function encodeModel(m: ModelProto): Uint8Array[] {
  const w = new ProtoWriter()
  w.int(1, m.irVersion)
  w.string(2, m.producerName)
  w.string(3, m.producerVersion)
  w.message(7, graph(m.graph))
  for (const o of m.opsetImports) w.message(8, new ProtoWriter().string(1, o.domain).int(2, o.version))
  return w.finish()
}
