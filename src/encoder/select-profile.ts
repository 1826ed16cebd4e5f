import { inputError } from '../core/errors.js'
import type { Config, Profile } from '../core/types.js'
import { didYouMean } from '../config/suggest.js'

/**
 * The profile a runtime command works with: the one loadConfig selected (--profile >
 * EMBEDDING_PROFILE > default_profile), else the only profile there is.
 */
export function selectedProfile(config: Config): Profile {
  const names = Object.keys(config.profiles)
  const name = config.defaultProfile ?? (names.length === 1 ? names[0] : undefined)
  const profile = name === undefined ? undefined : config.profiles[name]
  if (!profile) {
    throw inputError('E_PROFILE_REQUIRED', name === undefined ? 'no profile selected' : `unknown profile "${name}"`, {
      location: { file: config.file, path: 'default_profile' },
      hint: name === undefined ? `pass --profile NAME (one of: ${names.join(', ')})` : didYouMean(name, names),
    })
  }
  return profile
}
