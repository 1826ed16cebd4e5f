/**
 * One encoder per profile for the whole apply, opened before any store change so a model that
 * does not produce the planned dimensions stops apply while nothing has been touched.
 */
import { failure, inputError } from '../core/errors.js'
import { fingerprint } from '../core/fingerprint.js'
import type { Profile } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import type { CollectionPlan, EngineContext } from '../plan/types.js'

export interface EncoderPool {
  get(profile: Profile): Encoder
  close(): Promise<void>
}

/** Only plans that make or complete a non-live generation encode; index rebuilds and no-ops never do. */
const needsEncoder = (p: CollectionPlan): boolean => p.change === 'new-generation' || p.change === 'cutover-retained'

/** Same vectors, same runtime: device/batch size/threads matter to how it runs, not what it makes. */
const poolKey = (p: Profile): string => `${fingerprint(p)}|${p.device}|${p.batchSize}|${p.threads ?? ''}`

export async function openEncoders(ctx: EngineContext, plans: CollectionPlan[]): Promise<EncoderPool> {
  const open = new Map<string, Encoder>()
  const pool: EncoderPool = {
    get(profile) {
      const e = open.get(poolKey(profile))
      if (!e) throw failure('E_INTERNAL', `no encoder opened for profile ${profile.name}`)
      return e
    },
    async close() {
      await Promise.allSettled([...open.values()].map((e) => e.close()))
      open.clear()
    },
  }
  try {
    for (const plan of plans.filter(needsEncoder)) {
      const key = poolKey(plan.profile)
      if (open.has(key)) continue
      const encoder = await ctx.openEncoder(plan.profile, ctx.encoderOptions)
      open.set(key, encoder)
      if (encoder.dimensions !== plan.profile.dimensions) {
        throw inputError(
          'E_DIMENSIONS',
          `profile ${plan.profile.name} declares ${plan.profile.dimensions} dimensions but its model produces ${encoder.dimensions}`,
          {
            location: { ...(plan.profile.file ? { file: plan.profile.file } : {}), path: `profiles.${plan.profile.name}.dimensions` },
            hint: `set dimensions: ${encoder.dimensions} (or a smaller Matryoshka size the model supports)`,
          },
        )
      }
    }
  } catch (err) {
    await pool.close()
    throw err
  }
  return pool
}
