import { attr, GraphBuilder } from './onnx/graph-builder.js'
import { DataType, type GraphProto } from './onnx/model-proto.js'
import { mulberry32, normalFill } from './prng.js'

/** The shape of a BERT encoder, named like the fields of a Hugging Face BertConfig. */
export interface BertShape {
  layers: number
  hidden: number
  heads: number
  intermediate: number
  vocabSize: number
  maxPositions: number
  typeVocabSize: number
}

/** `last_hidden_state` for an encoder, `logits` [batch, 1] from the [CLS] token for a cross-encoder. */
export type BertHead = 'none' | 'classifier'

const LAYER_NORM_EPS = 1e-12
/** BERT's initializer_range. */
const INIT_STD = 0.02
/** BERT's additive mask value: large enough to zero a softmax weight, small enough to stay finite. */
const MASK_VALUE = -10000

export function validateShape(shape: BertShape): string | undefined {
  for (const [k, v] of Object.entries(shape)) if (!Number.isInteger(v) || v < 1) return `${k} must be a positive integer, got ${v}`
  if (shape.hidden % shape.heads !== 0) return `hidden (${shape.hidden}) must be divisible by heads (${shape.heads})`
  return undefined
}

class Weights {
  private readonly uniform: () => number
  constructor(
    private readonly b: GraphBuilder,
    seed: number,
  ) {
    this.uniform = mulberry32(seed)
  }

  random(name: string, dims: readonly number[], std = INIT_STD): string {
    const data = normalFill(new Float32Array(dims.reduce((a, d) => a * d, 1)), std, this.uniform)
    return this.b.weight(name, data, dims)
  }

  filled(name: string, dims: readonly number[], value: number): string {
    return this.b.weight(name, new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(value), dims)
  }
}

/**
 * A standard BERT graph (opset 17) with seeded random weights: embeddings + LayerNorm, N
 * post-LN transformer layers with erf-GELU (opset 17 has no Gelu op in the default domain).
 * Weight names follow the Hugging Face checkpoint names for readability in Netron.
 */
export function bertGraph(shape: BertShape, seed: number, head: BertHead): GraphProto {
  const { hidden: H, heads, intermediate: I } = shape
  const headDim = H / heads
  const b = new GraphBuilder(head === 'classifier' ? 'bert_cross_encoder' : 'bert_encoder')
  const w = new Weights(b, seed)
  const dims = ['batch', 'sequence']
  const inputIds = b.input('input_ids', DataType.INT64, dims)
  const attentionMask = b.input('attention_mask', DataType.INT64, dims)
  const tokenTypeIds = b.input('token_type_ids', DataType.INT64, dims)

  const layerNorm = (x: string, prefix: string): string =>
    b.op('LayerNormalization', [x, w.filled(`${prefix}.weight`, [H], 1), w.filled(`${prefix}.bias`, [H], 0)], {
      axis: attr.int(-1),
      epsilon: attr.float(LAYER_NORM_EPS),
    })
  const dense = (x: string, prefix: string, inDim: number, outDim: number, std = INIT_STD): string =>
    b.op('Add', [b.op('MatMul', [x, w.random(`${prefix}.weight`, [inDim, outDim], std)]), w.filled(`${prefix}.bias`, [outDim], 0)])

  // Position ids are arange(sequence): slice a constant arange to the input's length.
  const seqLen = b.op('Shape', [inputIds], { start: attr.int(1), end: attr.int(2) })
  const arange = b.int64('position_ids', Array.from({ length: shape.maxPositions }, (_, i) => i))
  const positionIds = b.op('Slice', [arange, b.int64('zero', [0]), seqLen, b.int64('axis0', [0])])
  const gather = (table: string, ids: string): string => b.op('Gather', [table, ids], { axis: attr.int(0) })
  const words = gather(w.random('embeddings.word_embeddings.weight', [shape.vocabSize, H]), inputIds)
  const positions = gather(w.random('embeddings.position_embeddings.weight', [shape.maxPositions, H]), positionIds)
  const types = gather(w.random('embeddings.token_type_embeddings.weight', [shape.typeVocabSize, H]), tokenTypeIds)
  let x = layerNorm(b.op('Add', [b.op('Add', [words, positions]), types]), 'embeddings.LayerNorm')

  // (1 − mask) · −10000, shaped [batch, 1, 1, sequence] to broadcast over heads and query positions.
  const maskFloat = b.op('Unsqueeze', [b.op('Cast', [attentionMask], { to: attr.int(DataType.FLOAT) }), b.int64('mask_axes', [1, 2])])
  const additiveMask = b.op('Mul', [b.op('Sub', [b.scalar('one', 1), maskFloat]), b.scalar('mask_value', MASK_VALUE)])
  const splitHeads = b.int64('split_heads_shape', [0, 0, heads, headDim])
  const mergeHeads = b.int64('merge_heads_shape', [0, 0, H])
  const scale = b.scalar('attention_scale', 1 / Math.sqrt(headDim))
  const sqrtHalf = b.scalar('sqrt_half', Math.SQRT1_2)
  const half = b.scalar('half', 0.5)

  for (let l = 0; l < shape.layers; l++) {
    const p = `encoder.layer.${l}`
    const heads4d = (t: string, perm: number[]): string => b.op('Transpose', [b.op('Reshape', [t, splitHeads])], { perm: attr.ints(perm) })
    const q = heads4d(dense(x, `${p}.attention.self.query`, H, H), [0, 2, 1, 3])
    const kT = heads4d(dense(x, `${p}.attention.self.key`, H, H), [0, 2, 3, 1])
    const v = heads4d(dense(x, `${p}.attention.self.value`, H, H), [0, 2, 1, 3])
    const scores = b.op('Add', [b.op('Mul', [b.op('MatMul', [q, kT]), scale]), additiveMask])
    const probs = b.op('Softmax', [scores], { axis: attr.int(-1) })
    const context = b.op('Reshape', [b.op('Transpose', [b.op('MatMul', [probs, v])], { perm: attr.ints([0, 2, 1, 3]) }), mergeHeads])
    const attended = dense(context, `${p}.attention.output.dense`, H, H)
    x = layerNorm(b.op('Add', [attended, x]), `${p}.attention.output.LayerNorm`)

    const up = dense(x, `${p}.intermediate.dense`, H, I)
    const gelu = b.op('Mul', [b.op('Mul', [up, half]), b.op('Add', [b.op('Erf', [b.op('Mul', [up, sqrtHalf])]), b.scalar('one_gelu', 1)])])
    const down = dense(gelu, `${p}.output.dense`, I, H)
    x = layerNorm(b.op('Add', [down, x]), `${p}.output.LayerNorm`)
  }

  if (head === 'none') {
    b.output('last_hidden_state', x, DataType.FLOAT, ['batch', 'sequence', H])
  } else {
    const cls = b.op('Gather', [x, b.int64('cls_index', [0], [])], { axis: attr.int(1) })
    // Variance-preserving init for the head so untrained scores still differ visibly between inputs.
    const headStd = 1 / Math.sqrt(H)
    const pooled = b.op('Tanh', [dense(cls, 'pooler.dense', H, H, headStd)])
    b.output('logits', dense(pooled, 'classifier', H, 1, headStd), DataType.FLOAT, ['batch', 1])
  }
  return b.build()
}
