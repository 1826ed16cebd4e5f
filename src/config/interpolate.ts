import { inputError, type EmbedformError } from '../core/errors.js'
import { locate, type KeyPath, type YamlFile } from './yaml-file.js'

/**
 * `${env:VAR}` and `${env:VAR:-default}` anywhere in a string value. A value that is exactly one
 * reference takes the variable's scalar type, so `dimensions: ${env:DIMS}` stays an integer.
 */
const REF = /\$\{([^}]*)\}/g
const BODY = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s

export interface Interpolated {
  data: unknown
  /** Key paths (dot-joined) whose value came from the environment, with the variables used. */
  envPaths: Map<string, string[]>
  errors: EmbedformError[]
  /**
   * Unset variables at paths the caller chose to defer (a store's connection settings): the
   * value keeps its `${env:…}` text and the error waits for the moment the value is used.
   */
  deferred: EmbedformError[]
}

export interface InterpolateOptions {
  /** Paths whose unset variables go to `deferred` instead of `errors`. */
  defer?: (path: KeyPath) => boolean
}

/** Keys whose schema type is a number or boolean; every other value stays a string (a password of digits too). */
const TYPED_KEYS = new Set(['version', 'dimensions', 'max_tokens', 'batch_size', 'threads', 'throughput', 'top_k', 'return_top_k', 'm', 'ef_construction', 'lists', 'max_drop', 'normalize', 'enabled', 'insecure'])

export function interpolate(yf: YamlFile, env: NodeJS.ProcessEnv, opts: InterpolateOptions = {}): Interpolated {
  const errors: EmbedformError[] = []
  const deferred: EmbedformError[] = []
  const envPaths = new Map<string, string[]>()

  const visit = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return substitute(value, path)
    if (Array.isArray(value)) return value.map((v, i) => visit(v, [...path, i]))
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, [...path, k])]))
    }
    return value
  }

  const substitute = (text: string, path: KeyPath): unknown => {
    if (!text.includes('${')) return text
    const vars: string[] = []
    let whole: string | undefined
    const out = text.replace(REF, (match, body: string) => {
      const m = BODY.exec(body)
      if (!m) {
        errors.push(
          inputError('E_ENV_SYNTAX', `malformed reference \`${match}\``, {
            location: locate(yf, path),
            hint: 'write ${env:VAR} or ${env:VAR:-default}',
          }),
        )
        return match
      }
      const [, name, fallback] = m as unknown as [string, string, string | undefined]
      vars.push(name)
      const v = env[name]
      if (v !== undefined && v !== '') return (whole = v)
      if (fallback !== undefined) return (whole = fallback)
      const missing = inputError('E_ENV_MISSING', `environment variable ${name} is not set`, {
        location: locate(yf, path),
        hint: `export ${name}=..., or give a default: \${env:${name}:-value}`,
      })
      if (opts.defer?.(path)) deferred.push(missing)
      else errors.push(missing)
      return match
    })
    if (vars.length === 0) return out
    envPaths.set(path.map(String).join('.'), vars)
    const single = vars.length === 1 && /^\$\{[^}]*\}$/.test(text)
    return single && whole !== undefined && TYPED_KEYS.has(String(path[path.length - 1])) ? scalar(whole) : out
  }

  const data = visit(yf.data, [])
  return { data, envPaths, errors, deferred }
}

function scalar(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v)
  if (/^-?\d*\.\d+$/.test(v)) return Number(v)
  if (v === 'true' || v === 'false') return v === 'true'
  return v
}
