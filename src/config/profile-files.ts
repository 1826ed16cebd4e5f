import { readdir } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { EmbedformErrors, inputError, isEmbedformError, type EmbedformError } from '../core/errors.js'
import { interpolate } from './interpolate.js'
import { validateSchema } from './schema.js'
import { flatten, type Leaves } from './sources.js'
import { locate, readYamlFile, type YamlFile } from './yaml-file.js'

/** One profile file, schema-valid, env-interpolated and flattened, before `extends` is applied. */
export interface ProfileFile {
  name: string
  file: string
  yf: YamlFile
  extends?: string
  description?: string
  /** Own values only (no `name`, `extends`, `description`), model shorthands expanded. */
  leaves: Leaves
}

/** Profiles whose name starts with `_` only exist to be extended; they are never selected. */
export function isAbstractProfile(name: string): boolean {
  return name.startsWith('_')
}

export function profileNameOf(file: string): string {
  return basename(file, extname(file))
}

export async function listProfileFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort()
}

export async function readProfileFile(file: string, env: NodeJS.ProcessEnv): Promise<{ profile?: ProfileFile; errors: EmbedformError[] }> {
  let yf: YamlFile
  try {
    yf = await readYamlFile(file, 'E_PROFILE_MISSING')
  } catch (e) {
    return { errors: unpack(e) }
  }
  const { data, envPaths, errors } = interpolate(yf, env)
  if (errors.length > 0) return { errors }
  const schemaErrors = validateSchema('profile', data, yf)
  if (schemaErrors.length > 0) return { errors: schemaErrors }

  const raw = expandShorthands((data ?? {}) as Record<string, unknown>)
  const name = profileNameOf(file)
  if (typeof raw.name === 'string' && raw.name !== name) {
    return {
      errors: [
        inputError('E_PROFILE_NAME', `profile name "${raw.name}" does not match its file name "${basename(file)}"`, {
          location: locate(yf, ['name']),
          hint: `rename the file to ${raw.name}.yaml or set name: ${name}`,
        }),
      ],
    }
  }
  const { name: _name, extends: parent, description, ...own } = raw
  const leaves = flatten(own, (path) => {
    const pos = locate(yf, path)
    const env = envPaths.get(path.join('.')) ?? envPaths.get(path.slice(0, -1).join('.'))
    return { kind: 'file', file, line: pos.line ?? 1, column: pos.column ?? 1, ...(env ? { env } : {}) }
  })
  return {
    profile: {
      name,
      file,
      yf,
      leaves,
      ...(typeof parent === 'string' ? { extends: parent } : {}),
      ...(typeof description === 'string' ? { description } : {}),
    },
    errors: [],
  }
}

/** `model: hf:x/y` is shorthand for `model: {source: hf:x/y}` (also under reranker). */
function expandShorthands(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw }
  if (typeof out.model === 'string') out.model = { source: out.model }
  const reranker = out.reranker as Record<string, unknown> | undefined
  if (reranker && typeof reranker.model === 'string') out.reranker = { ...reranker, model: { source: reranker.model } }
  return out
}

/** The individual problems inside a thrown input error; anything else is not ours to collect. */
export function unpack(e: unknown): EmbedformError[] {
  if (e instanceof EmbedformErrors) return e.errors
  if (isEmbedformError(e)) return [e]
  throw e
}
