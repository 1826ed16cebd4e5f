import { homedir } from 'node:os'
import { join } from 'node:path'

/** EMBEDFORM_CACHE_DIR, else $XDG_CACHE_HOME/embedform, else ~/.cache/embedform. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EMBEDFORM_CACHE_DIR) return env.EMBEDFORM_CACHE_DIR
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'embedform')
  return join(homedir(), '.cache', 'embedform')
}

export function modelsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'models')
}
