import { writeFile } from 'node:fs/promises'
import {
  type AttributeValue,
  DataType,
  type Dim,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type OpsetImport,
  type TensorProto,
  type ValueInfoProto,
} from './model-proto.js'

/** Attribute constructors, so node definitions read like the ONNX operator docs. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (value: TensorProto): AttributeValue => ({ kind: 'tensor', value }),
}

function bytesOf(view: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

export function floatTensor(name: string, data: Float32Array, dims: readonly number[]): TensorProto {
  return { name, dataType: DataType.FLOAT, dims, rawData: bytesOf(data) }
}

export function int64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): TensorProto {
  return { name, dataType: DataType.INT64, dims, rawData: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))) }
}

export interface OpOptions {
  domain?: string
  /** Name of the (single) output; defaults to a generated unique name. */
  output?: string
}

/**
 * Builds a GraphProto node by node. Each `op` call returns the name of its output so graphs are
 * written as expressions: `b.op('Add', [b.op('MatMul', [x, w]), bias])`.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = []
  private readonly initializers: TensorProto[] = []
  private readonly inputs: ValueInfoProto[] = []
  private readonly outputs: ValueInfoProto[] = []
  private readonly names = new Set<string>()
  private counter = 0

  constructor(private readonly name: string) {}

  private unique(base: string): string {
    let candidate = base
    while (this.names.has(candidate)) candidate = `${base}_${++this.counter}`
    this.names.add(candidate)
    return candidate
  }

  input(name: string, elemType: DataType, shape: readonly Dim[]): string {
    this.names.add(name)
    this.inputs.push({ name, elemType, shape })
    return name
  }

  /** Declares `value` as a graph output named `name` (via Identity when the names differ). */
  output(name: string, value: string, elemType: DataType, shape: readonly Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, { output: name })
    this.outputs.push({ name, elemType, shape })
  }

  weight(name: string, data: Float32Array, dims: readonly number[]): string {
    const n = this.unique(name)
    this.initializers.push(floatTensor(n, data, dims))
    return n
  }

  int64(name: string, values: readonly number[], dims?: readonly number[]): string {
    const n = this.unique(name)
    this.initializers.push(int64Tensor(n, values, dims))
    return n
  }

  scalar(name: string, value: number): string {
    return this.weight(name, Float32Array.of(value), [])
  }

  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, opts: OpOptions = {}): string {
    const nodeName = this.unique(`${opType}_${this.nodes.length}`)
    const output = opts.output ? this.unique(opts.output) : this.unique(`${nodeName}_out`)
    this.nodes.push({ name: nodeName, opType, inputs, outputs: [output], attributes, ...(opts.domain ? { domain: opts.domain } : {}) })
    return output
  }

  build(): GraphProto {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs }
  }
}

/** IR version 8 is what onnx 1.12–1.13 writes for opset 17; onnxruntime 1.30 reads up to 11. */
export const IR_VERSION = 8
export const DEFAULT_OPSET: readonly OpsetImport[] = [{ domain: '', version: 17 }]

export function makeModel(graph: GraphProto, opsets: readonly OpsetImport[] = DEFAULT_OPSET): ModelProto {
  return { irVersion: IR_VERSION, opsetImports: opsets, producerName: 'embedform', producerVersion: '1', graph }
}

export async function writeModel(path: string, model: ModelProto): Promise<void> {
  await writeFile(path, encodeModel(model))
}
