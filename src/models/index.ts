/** Models embedform builds itself: synthetic BERT encoders and cross-encoders, and the GloVe starter. */
export {
  BUILTIN_MODELS,
  DEFAULT_BUILTINS,
  builtinDescription,
  buildBuiltinTo,
  type BuildOverrides,
  builtinModelDir,
  ensureBuiltin,
  ensureBuiltinModel,
  isBuiltinCurrent,
  type EnsureOptions,
  type EnsureResult,
} from './builtin.js'
export { type BertShape } from './bert-graph.js'
export { type BuiltModel, type ModelKind, type ModelManifest, MANIFEST_FILE, ONNX_FILE, readManifest } from './model-files.js'
export { BERT_TINY_SHAPE, BGE_SMALL_SHAPE, buildCrossEncoder, buildSyntheticBert, type SyntheticBertOptions } from './synthetic-bert.js'
export { buildStaticGlove, DEFAULT_STATIC_VOCAB_SIZE, type StaticGloveOptions } from './static-glove.js'
export { quantizeModel, QUANTIZATION_METADATA_KEY, type QuantizedModel, type QuantizeOptions, type QuantizeReport } from './quantize.js'
export { convertToFp16, FP16_METADATA_KEY, FP16_OPS, type Fp16Model, type Fp16Options, type Fp16Report } from './fp16.js'
export {
  ensureQuantized,
  type EnsureQuantizedOptions,
  FP16_CONVERTER_VERSION,
  QUANTIZATION_MANIFEST,
  QUANTIZATIONS,
  QUANTIZER_VERSION,
  quantizedDir,
  type Quantization,
  type QuantizationManifest,
  type QuantizedFile,
} from './quantized-cache.js'
