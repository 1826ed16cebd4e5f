import { inputError } from '../core/errors.js'
import { type BertHead, type BertShape, bertGraph, validateShape } from './bert-graph.js'
import { GLOVE_PACKAGE, readGloveWords } from './glove-source.js'
import { type BuiltModel, type ModelKind, recipeHash, writeModelFiles } from './model-files.js'
import { makeModel } from './onnx/graph-builder.js'
import { DEFAULT_SEED } from './prng.js'
import { wordPieceTokenizerConfig, wordPieceTokenizerJson } from './tokenizer-files.js'
import { wordPieceVocab } from './vocab.js'

export const BERT_TINY_SHAPE: BertShape = { layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabSize: 8192, maxPositions: 512, typeVocabSize: 2 }
/** BAAI/bge-small-en-v1.5's exact shape. */
export const BGE_SMALL_SHAPE: BertShape = { layers: 12, hidden: 384, heads: 12, intermediate: 1536, vocabSize: 30522, maxPositions: 512, typeVocabSize: 2 }

export interface SyntheticBertOptions {
  /** Directory to write; created if missing, files in it overwritten. */
  outDir: string
  name?: string
  /** Missing fields come from bert-tiny's shape. */
  shape?: Partial<BertShape>
  seed?: number
  log?: (message: string) => void
}

export interface ResolvedBertSpec {
  name: string
  kind: ModelKind
  shape: BertShape
  seed: number
}

export function resolveBertSpec(opts: Omit<SyntheticBertOptions, 'outDir'>, head: BertHead): ResolvedBertSpec {
  const shape = { ...BERT_TINY_SHAPE, ...opts.shape }
  const problem = validateShape(shape)
  if (problem) throw inputError('E_MODEL_SPEC', `invalid model shape: ${problem}`, { location: { path: 'shape' } })
  const kind: ModelKind = head === 'classifier' ? 'cross-encoder' : 'bert'
  return { name: opts.name ?? `synthetic-${kind}`, kind, shape, seed: opts.seed ?? DEFAULT_SEED }
}

export function bertRecipe(spec: ResolvedBertSpec): string {
  return recipeHash({ kind: spec.kind, shape: spec.shape, seed: spec.seed, vocabFrom: GLOVE_PACKAGE })
}

function hfConfig(spec: ResolvedBertSpec): Record<string, unknown> {
  const s = spec.shape
  return {
    architectures: [spec.kind === 'cross-encoder' ? 'BertForSequenceClassification' : 'BertModel'],
    model_type: 'bert',
    hidden_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    intermediate_size: s.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: s.maxPositions,
    type_vocab_size: s.typeVocabSize,
    vocab_size: s.vocabSize,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    ...(spec.kind === 'cross-encoder' ? { num_labels: 1, id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } : {}),
  }
}

async function build(opts: SyntheticBertOptions, head: BertHead): Promise<BuiltModel> {
  const started = Date.now()
  const spec = resolveBertSpec(opts, head)
  const vocab = wordPieceVocab(await readGloveWords(), spec.shape.vocabSize)
  const shape = { ...spec.shape, vocabSize: vocab.size }
  opts.log?.(`${spec.name}: generating ${shape.layers}-layer ${shape.hidden}-wide ${spec.kind} (seed ${spec.seed})`)
  const model = makeModel(bertGraph(shape, spec.seed, head))
  return writeModelFiles(
    opts.outDir,
    {
      model,
      tokenizer: wordPieceTokenizerJson(vocab),
      tokenizerConfig: wordPieceTokenizerConfig(shape.maxPositions),
      config: hfConfig({ ...spec, shape }),
    },
    {
      name: spec.name,
      kind: spec.kind,
      dims: head === 'classifier' ? 1 : shape.hidden,
      recipe: bertRecipe(spec),
      source: null,
      vocabSize: vocab.size,
      seed: spec.seed,
      spec: { ...shape, vocabWordsFrom: GLOVE_PACKAGE },
    },
    started,
  )
}

/** A BERT-shaped encoder with seeded random weights: output `last_hidden_state` [batch, sequence, hidden]. */
export function buildSyntheticBert(opts: SyntheticBertOptions): Promise<BuiltModel> {
  return build(opts, 'none')
}

/** The same body with a pooler + classifier on [CLS]: output `logits` [batch, 1], like BertForSequenceClassification. */
export function buildCrossEncoder(opts: SyntheticBertOptions): Promise<BuiltModel> {
  return build(opts, 'classifier')
}
