/**
 * Errors that reach the command without being an EmbedformError. Those the user's environment
 * causes (a path that cannot be written, a full disk) get a code and a next step; anything else is
 * a bug, shown without a stack trace unless --debug asks for one.
 */
import { EmbedformError } from '../core/errors.js'
import { cacheDir } from '../util/paths.js'

interface SystemError extends Error {
  code?: string
  path?: string
  syscall?: string
}

const FS_CODES: Record<string, { code: string; what: string }> = {
  EACCES: { code: 'E_FS_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'E_FS_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'E_FS_READ_ONLY', what: 'read-only file system' },
  ENOSPC: { code: 'E_FS_FULL', what: 'no space left on device' },
  ENOTDIR: { code: 'E_FS_PATH', what: 'a part of the path is a file, not a directory' },
  EISDIR: { code: 'E_FS_PATH', what: 'is a directory' },
  ENOENT: { code: 'E_FS_MISSING', what: 'no such file or directory' },
}

function underCache(path: string): boolean {
  const dir = cacheDir()
  return path === dir || path.startsWith(`${dir}/`)
}

export function fromUnexpected(err: Error): EmbedformError {
  const sys = err as SystemError
  const fs = sys.code ? FS_CODES[sys.code] : undefined
  if (fs && sys.path) {
    const action = sys.syscall ? `${sys.syscall} ` : ''
    return new EmbedformError({
      code: fs.code,
      message: `cannot ${action}${sys.path}: ${fs.what}`,
      kind: 'failure',
      location: { file: sys.path },
      hint: underCache(sys.path)
        ? `the model cache is ${cacheDir()}: set EMBEDFORM_CACHE_DIR to a writable directory, or fix its permissions`
        : 'check that the path exists and that this user can write it',
      cause: err,
    })
  }
  return new EmbedformError({
    code: 'E_INTERNAL',
    message: err.message || String(err),
    kind: 'failure',
    hint: 'this is a bug in embedform: run the command again with --debug and report the stack trace it prints',
    cause: err,
  })
}

/** The error's stack followed by its causes', for --debug. */
export function stackOf(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current))
    current = current instanceof Error ? current.cause : undefined
    if (current !== undefined) parts.push('caused by:')
  }
  return parts.join('\n')
}
