import { Flags } from '@oclif/core'
import type { Device } from '../core/types.js'
import type { ProfileOverrides } from './overrides.js'

/**
 * Flags that override the selected profile (they beat EMBEDDING_* variables). Commands that
 * load config for work (plan, apply, search, config show) spread these into their flags.
 */
export const overrideFlags = {
  profile: Flags.string({ description: 'Profile to use as the default (overrides EMBEDDING_PROFILE and default_profile).', helpGroup: 'PROFILE OVERRIDES' }),
  model: Flags.string({ description: 'Model source for the selected profile (EMBEDDING_MODEL): hf:owner/name, builtin:NAME or a directory.', helpGroup: 'PROFILE OVERRIDES' }),
  dimensions: Flags.integer({ description: 'Output dimensions (EMBEDDING_DIMENSIONS).', min: 1, helpGroup: 'PROFILE OVERRIDES' }),
  device: Flags.string({ description: 'auto | cpu | cuda | cuda:N | webgpu (EMBEDDING_DEVICE).', helpGroup: 'PROFILE OVERRIDES' }),
  'batch-size': Flags.integer({ description: 'Texts per encoder batch (EMBEDDING_BATCH_SIZE).', min: 1, helpGroup: 'PROFILE OVERRIDES' }),
  reranker: Flags.boolean({ description: 'Enable or disable the reranker (ENABLE_RERANKER).', allowNo: true, helpGroup: 'PROFILE OVERRIDES' }),
  'rerank-top-k': Flags.integer({ description: 'Candidates retrieved before reranking (RERANK_TOP_K).', min: 1, helpGroup: 'PROFILE OVERRIDES' }),
  'return-top-k': Flags.integer({ description: 'Results returned after reranking (RETURN_TOP_K).', min: 1, helpGroup: 'PROFILE OVERRIDES' }),
  'rerank-batch-size': Flags.integer({ description: 'Pairs per reranker batch (RERANK_BATCH_SIZE).', min: 1, helpGroup: 'PROFILE OVERRIDES' }),
}

export interface OverrideFlagValues {
  profile?: string
  model?: string
  dimensions?: number
  device?: string
  'batch-size'?: number
  reranker?: boolean
  'rerank-top-k'?: number
  'return-top-k'?: number
  'rerank-batch-size'?: number
}

/** Parsed flags → ProfileOverrides; loadConfig checks the values (a bad --device is exit 2 there). */
export function overridesFromFlags(f: OverrideFlagValues): ProfileOverrides {
  const o: ProfileOverrides = {}
  if (f.profile !== undefined) o.profile = f.profile
  if (f.model !== undefined) o.model = f.model
  if (f.dimensions !== undefined) o.dimensions = f.dimensions
  if (f.device !== undefined) o.device = f.device as Device
  if (f['batch-size'] !== undefined) o.batchSize = f['batch-size']
  if (f.reranker !== undefined) o.rerankerEnabled = f.reranker
  if (f['rerank-top-k'] !== undefined) o.rerankTopK = f['rerank-top-k']
  if (f['return-top-k'] !== undefined) o.returnTopK = f['return-top-k']
  if (f['rerank-batch-size'] !== undefined) o.rerankBatchSize = f['rerank-batch-size']
  return o
}
