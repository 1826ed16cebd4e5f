import { relative } from 'node:path'
import type { ErrorLocation } from '../core/errors.js'

/** Where a resolved value came from; precedence is flag > env > file > extends > default. */
export type ValueSource =
  | { kind: 'file'; file: string; line: number; column: number; env?: string[] }
  | { kind: 'extends'; profile: string; file: string; line: number; column: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }
  | { kind: 'default' }

/** One leaf value (scalar or list) at a dot-joined YAML key path. */
export interface Leaf {
  value: unknown
  source: ValueSource
}
export type Leaves = Map<string, Leaf>

export function sourceLabel(s: ValueSource, cwd: string = process.cwd()): string {
  switch (s.kind) {
    case 'file':
      return `file:${relative(cwd, s.file) || s.file}:${s.line}${s.env ? ` (\${env:${s.env.join(',')}})` : ''}`
    case 'extends':
      return `extends:${s.profile}`
    case 'env':
      return `env:${s.name}`
    case 'flag':
      return `flag:${s.name}`
    case 'default':
      return 'default'
  }
}

/** Error location for a value: its file position, or the variable/flag that set it. */
export function sourceLocation(s: ValueSource | undefined, path: string): ErrorLocation {
  if (!s) return { path }
  switch (s.kind) {
    case 'file':
    case 'extends':
      return { file: s.file, line: s.line, column: s.column, path }
    case 'env':
      return { path, object: `environment variable ${s.name}` }
    case 'flag':
      return { path, object: `flag ${s.name}` }
    case 'default':
      return { path }
  }
}

/** Flattens plain data into leaves; arrays and scalars are leaves, mappings are walked. */
export function flatten(data: unknown, sourceOf: (path: string[]) => ValueSource, prefix: string[] = [], out: Leaves = new Map()): Leaves {
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) flatten(v, sourceOf, [...prefix, k], out)
  } else if (prefix.length > 0) {
    out.set(prefix.join('.'), { value: data, source: sourceOf(prefix) })
  }
  return out
}

export function unflatten(leaves: Leaves): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [path, leaf] of leaves) {
    const parts = path.split('.')
    let node = root
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
    node[parts[parts.length - 1]!] = leaf.value
  }
  return root
}
