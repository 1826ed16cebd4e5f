/** The encoder runtime: text → vectors and (query, passage) → scores, in-process on onnxruntime-node. */
import type { Device, Profile, RerankerSettings } from '../core/types.js'
import { ModelRunner } from './model-runner.js'
import { EMBEDDING_OUTPUTS, OnnxEncoder } from './onnx-encoder.js'
import { OnnxReranker, RERANKER_OUTPUTS } from './onnx-reranker.js'
import { openSession } from './providers.js'
import { defaultTokenBudget } from './token-budget.js'
import { resolveModel } from './resolve-model.js'
import { TextTokenizer } from './text-tokenizer.js'
import type { EncoderOptions, Reranker } from './types.js'

export { resolveModel, sha256File, type ResolvedModel, type ResolveOptions } from './resolve-model.js'
export { fetchHfFile, isOffline } from './hf-download.js'
export { formatHfSource, hfCacheDir, hfFileUrl, isHfSource, parseHfSource, type HfRef } from './hf-source.js'
export { cosine, l2Normalize, pool, truncateDimensions } from './pooling.js'
export { defaultThreads, CUDA_INSTALL_HINT, DEFAULT_TUNING, type SessionTuning } from './providers.js'
export { OnnxEncoder, type EncoderStats } from './onnx-encoder.js'
export { defaultTokenBudget } from './token-budget.js'
export { OnnxReranker } from './onnx-reranker.js'
export type { Encoder, EncoderOptions, Reranker, RerankResult, TextKind } from './types.js'

/**
 * Opens the profile's model on its device and checks, by encoding a probe, that it yields at
 * least `profile.dimensions` values — before any store is touched.
 */
export async function openEncoder(profile: Profile, opts: EncoderOptions = {}): Promise<OnnxEncoder> {
  const model = await resolveModel(profile.model, { offline: opts.offline, log: opts.log, onDownload: opts.onDownload, profileFile: profile.file })
  const tokenizer = await TextTokenizer.load(model.tokenizerPath, model.tokenizerConfigPath)
  const { session, provider } = await openSession(model.onnxPath, { device: profile.device, threads: profile.threads, log: opts.log, profileFile: profile.file, tuning: opts.tuning })
  const runner = new ModelRunner(session, EMBEDDING_OUTPUTS, model.onnxPath)
  const probe = new OnnxEncoder(runner, tokenizer, profile, provider)
  let hidden: number
  try {
    hidden = await probe.checkDimensions()
  } catch (e) {
    await probe.close()
    throw e
  }
  return new OnnxEncoder(runner, tokenizer, profile, provider, opts.tokenBudget ?? defaultTokenBudget(provider, hidden))
}

export async function openReranker(
  settings: RerankerSettings,
  opts: EncoderOptions & { device?: Device; threads?: number; profileFile?: string } = {},
): Promise<Reranker> {
  const model = await resolveModel(settings.model, {
    offline: opts.offline,
    log: opts.log,
    onDownload: opts.onDownload,
    profileFile: opts.profileFile,
    keyPath: 'reranker.model.source',
  })
  const tokenizer = await TextTokenizer.load(model.tokenizerPath, model.tokenizerConfigPath)
  const { session, provider } = await openSession(model.onnxPath, { device: opts.device ?? 'cpu', threads: opts.threads, log: opts.log, profileFile: opts.profileFile })
  return new OnnxReranker(new ModelRunner(session, RERANKER_OUTPUTS, model.onnxPath), tokenizer, settings, provider)
}
export { selectedProfile } from './select-profile.js'
export { downloadReporter, type DownloadReporter } from './download-progress.js'
export { listModels, type ModelEntry } from './model-cache.js'
export { measureBatchSize, peakRssMiB, percentile, type BatchSizeResult } from './benchmark.js'
export { formatOutputLine, parseInputLine, readInputBatches, type InputText } from './jsonl.js'
