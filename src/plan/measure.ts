/**
 * A short encoder run on this machine, so plan's time estimates come from measurement rather
 * than a guess. The texts are fixed, realistic sentences of mixed length: the same sample every
 * time keeps measurements comparable between runs and machines.
 */
import type { Profile } from '../core/types.js'
import type { EncoderOptions, OpenEncoder } from '../encoder/types.js'

const SUBJECTS = [
  'The quarterly report',
  'A customer support ticket about a failed payment',
  'Release notes for version 2.4 of the mobile app',
  'An email thread discussing the migration of the billing database',
  'The onboarding guide for new engineers',
  'A product review of a lightweight hiking backpack',
  'Meeting minutes from the infrastructure planning session',
  'A recipe for slow-cooked tomato sauce with fresh basil',
]
const PREDICATES = [
  'summarizes revenue growth across regions and flags two markets that missed their targets.',
  'explains how to reset a password, rotate API keys and contact the on-call team when alerts fire during the night.',
  'lists breaking changes, deprecated endpoints and the steps needed to upgrade without downtime.',
  'describes the trade-offs between rebuilding the index online and taking a short maintenance window on Sunday.',
  'is short.',
  'compares battery life, weight, price and durability with three competing products that were tested outdoors for a month in wet weather.',
  'mentions that the cache hit rate dropped after the last deploy.',
  'asks whether the new vector search results are better than keyword search for long technical questions.',
]

export const MEASURE_TEXTS: readonly string[] = SUBJECTS.flatMap((s) => PREDICATES.map((p) => `${s} ${p}`))

/** Texts per second for documents, after one warm-up batch (session creation and first-run costs excluded). */
export async function measureThroughput(openEncoder: OpenEncoder, profile: Profile, opts?: EncoderOptions): Promise<number> {
  const encoder = await openEncoder(profile, opts)
  try {
    const batch = Math.max(1, Math.min(profile.batchSize, MEASURE_TEXTS.length))
    await encoder.encode(MEASURE_TEXTS.slice(0, batch), 'document')
    const started = performance.now()
    for (let i = 0; i < MEASURE_TEXTS.length; i += batch) {
      await encoder.encode(MEASURE_TEXTS.slice(i, i + batch), 'document')
    }
    const seconds = (performance.now() - started) / 1000
    return MEASURE_TEXTS.length / Math.max(seconds, 1e-6)
  } finally {
    await encoder.close()
  }
}
