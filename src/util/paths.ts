import { homedir } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { inputError } from '../core/errors.js'

/** Kernel file systems: files there are not storage (writes fail or never finish, sizes lie). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev']

/**
 * EMBEDFORM_CACHE_DIR, else $XDG_CACHE_HOME/embedform, else ~/.cache/embedform. A cache under a
 * kernel file system is refused here, before anything tries to write (or walk) it.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const source = env.EMBEDFORM_CACHE_DIR ? 'EMBEDFORM_CACHE_DIR' : env.XDG_CACHE_HOME ? 'XDG_CACHE_HOME' : undefined
  const dir = env.EMBEDFORM_CACHE_DIR ? env.EMBEDFORM_CACHE_DIR : env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'embedform') : join(homedir(), '.cache', 'embedform')
  const absolute = resolve(dir)
  const root = VIRTUAL_ROOTS.find((r) => absolute === r || absolute.startsWith(`${r}${sep}`))
  if (root) {
    throw inputError('E_CACHE_DIR', `the model cache ${absolute} is under ${root}, a kernel file system that cannot hold files`, {
      ...(source ? { location: { path: source } } : {}),
      hint: `set EMBEDFORM_CACHE_DIR to a writable directory, e.g. \`export EMBEDFORM_CACHE_DIR=$HOME/.cache/embedform\``,
    })
  }
  return dir
}

export function modelsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'models')
}
