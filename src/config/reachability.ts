import { inputError } from '../core/errors.js'
import type { Profile } from '../core/types.js'

/** How the engine intends to move a collection to `profile`. */
export type Transition = 'new-generation' | 'in-place'

/**
 * The guard that makes a dimension change without a new generation impossible: vectors of
 * another size can only land in a fresh generation (column `embedding__gN` / index `docs__gN`)
 * that a plan creates. Anything that would write into, index, search or cut over to an existing
 * generation calls this with `in-place` first.
 *
 * @param liveDimensions dimensions of the collection's live generation; null when it has none.
 */
export function assertReachable(profile: Profile, liveDimensions: number | null, transition: Transition, collection?: string): void {
  if (transition === 'new-generation' || liveDimensions === null || liveDimensions === profile.dimensions) return
  const what = collection ? `collection "${collection}"` : 'the collection'
  throw inputError(
    'E_DIMENSIONS_CHANGE',
    `profile "${profile.name}" makes ${profile.dimensions}-d vectors but the live generation of ${what} holds ${liveDimensions}-d vectors; a dimension change needs a new generation`,
    {
      location: { ...(profile.file ? { file: profile.file } : {}), path: 'dimensions', ...(collection ? { object: `collection ${collection}` } : {}) },
      hint: 'run `embedform plan` to see the new generation it creates, then `embedform apply`',
    },
  )
}
