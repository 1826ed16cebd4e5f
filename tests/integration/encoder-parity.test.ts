import { basename, dirname } from 'node:path'
import { env, pipeline } from '@huggingface/transformers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pooling, Profile } from '../../src/core/types.js'
import { cosine, openEncoder } from '../../src/encoder/index.js'
import { ensureBuiltinModel } from '../../src/models/index.js'
import { loadPassages } from '../../src/sample/spam-corpus.js'
import { makeProfile } from '../helpers/profile.js'

/** bert-tiny's tokenizer_config model_max_length: what transformers.js truncates to. */
const MAX_TOKENS = 512

function profile(pooling: Pooling): Profile {
  return makeProfile({ name: `parity-${pooling}`, model: { source: 'builtin:bert-tiny' }, dimensions: 32, pooling, maxTokens: MAX_TOKENS, batchSize: 8, threads: 1 })
}

describe('parity with @huggingface/transformers feature-extraction on bert-tiny', () => {
  let modelDir: string
  // Real, messy text: subject + body chunks from SpamAssassin, including long ones that hit truncation.
  const texts = loadPassages({ limit: 50, words: 400 }).map((p) => `${p.title}\n${p.body}`)

  beforeAll(async () => {
    modelDir = await ensureBuiltinModel('bert-tiny')
    env.allowRemoteModels = false
    env.allowLocalModels = true
    env.localModelPath = `${dirname(modelDir)}/`
  })
  afterAll(() => {
    env.allowRemoteModels = true
  })

  for (const pooling of ['mean', 'cls'] as const) {
    it(`pooling ${pooling}, normalized: cosine ≥ 0.9999 for every text`, async () => {
      expect(texts).toHaveLength(50)
      const extractor = await pipeline('feature-extraction', basename(modelDir), { dtype: 'fp32', device: 'cpu' })
      const reference = await extractor(texts, { pooling, normalize: true })
      const rows = reference.tolist() as number[][]
      await extractor.dispose()

      const encoder = await openEncoder(profile(pooling))
      const ours = await encoder.encode(texts, 'document')
      await encoder.close()

      const sims = ours.map((v, i) => cosine(v, rows[i] as number[]))
      expect(Math.min(...sims)).toBeGreaterThanOrEqual(0.9999)
    })
  }
})
