import { dirname, resolve } from 'node:path'
import { inputError, isEmbedformError, type EmbedformError } from '../core/errors.js'
import type { Collection, StoreConfig, TextSource } from '../core/types.js'
import { loadPluginModule, storePlugin } from '../store/registry.js'
import { interpolate } from './interpolate.js'
import { validateSchema } from './schema.js'
import { didYouMean } from './suggest.js'
import { unresolvedStore } from './unresolved-store.js'
import { locate, readYamlFile, type KeyPath, type YamlFile } from './yaml-file.js'

/** embedding.config.yaml after interpolation and schema validation, before profile references are checked. */
export interface ConfigFile {
  file: string
  yf: YamlFile
  data: RawConfig
  envPaths: Map<string, string[]>
  profilesDir: string
  stores: Record<string, StoreConfig>
  /** `profile` is filled from the selected default profile once profiles are loaded. */
  collections: Record<string, DeclaredCollection>
}

export type DeclaredCollection = Omit<Collection, 'profile'> & { profile?: string }

interface RawCollection {
  store: string
  table?: string
  alias?: string
  key: string
  text: string | string[] | { template: string }
  separator?: string
  vector: string
  updated_at?: string
  profile?: string
  adopted_profile?: string
}
interface RawConfig {
  version: 1
  plugins?: string[]
  default_profile?: string
  profiles_dir?: string
  stores?: Record<string, Record<string, unknown> & { kind: string }>
  collections?: Record<string, RawCollection>
}

/** Reads and checks the config file itself; throws the file-level problems together. */
export async function readConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<{ config?: ConfigFile; profilesDir?: string; errors: EmbedformError[] }> {
  const file = resolve(path)
  const yf = await readYamlFile(file, 'E_CONFIG_MISSING')
  const base = dirname(file)
  // A store's settings are only needed to connect; commands that never do must not need its secrets.
  const { data, envPaths, errors: envErrors, deferred } = interpolate(yf, env, { defer: isStoreSetting })
  // Even a broken config usually says where the profiles are, so `validate` can report both at once.
  const dirSetting = (data as { profiles_dir?: unknown } | null)?.profiles_dir
  const profilesDir = resolve(base, typeof dirSetting === 'string' ? dirSetting : './profiles')
  if (envErrors.length > 0) return { profilesDir, errors: envErrors }
  const pluginErrors = await loadPlugins(data, base, yf)
  if (pluginErrors.length > 0) return { profilesDir, errors: pluginErrors }
  // An unresolved value is still its `${env:…}` text; its type is unknown until the variable is set.
  const deferredPaths = new Set(deferred.map((e) => e.location?.path))
  const schemaErrors = validateSchema('config', data ?? {}, yf).filter((e) => !deferredPaths.has(e.location?.path))
  if (schemaErrors.length > 0) return { profilesDir, errors: schemaErrors }
  const raw = data as RawConfig
  const errors: EmbedformError[] = []

  const stores: Record<string, StoreConfig> = {}
  for (const [name, s] of Object.entries(raw.stores ?? {})) {
    const unset = deferred.filter((e) => e.location?.path?.startsWith(`stores.${name}.`))
    const store = unset.length > 0 ? unresolvedStore(name, s.kind, unset) : toStore(name, s, base, yf, envPaths, errors)
    if (store) stores[name] = store
  }
  const collections: Record<string, DeclaredCollection> = {}
  for (const [name, c] of Object.entries(raw.collections ?? {})) {
    const collection = toCollection(name, c, stores, yf, errors)
    if (collection) collections[name] = collection
  }
  duplicateTargets(collections, stores, yf, errors)
  return errors.length > 0 ? { profilesDir, errors } : { config: { file, yf, data: raw, envPaths, profilesDir, stores, collections }, errors }
}

function isStoreSetting(path: KeyPath): boolean {
  return path[0] === 'stores' && path.length >= 3 && path[2] !== 'kind'
}

/**
 * `plugins:` names store plugins to load before anything else is checked, so their store kinds
 * and index sections are known to the schema. A list of strings is all that is checked here.
 */
async function loadPlugins(data: unknown, base: string, yf: YamlFile): Promise<EmbedformError[]> {
  const list = (data as { plugins?: unknown } | null)?.plugins
  if (!Array.isArray(list)) return []
  const errors: EmbedformError[] = []
  for (const [i, specifier] of list.entries()) {
    if (typeof specifier !== 'string' || specifier === '') continue
    try {
      await loadPluginModule(specifier, base, locate(yf, ['plugins', i]))
    } catch (e) {
      if (!isEmbedformError(e)) throw e
      errors.push(e)
    }
  }
  return errors
}

/** The store plugin checks the entry's values against each other and builds its StoreConfig. */
function toStore(name: string, s: Record<string, unknown>, base: string, yf: YamlFile, envPaths: Map<string, string[]>, errors: EmbedformError[]): StoreConfig | undefined {
  const plugin = storePlugin(s.kind as string, locate(yf, ['stores', name, 'kind']))
  const values = Object.fromEntries(Object.entries(s).filter(([key]) => key !== 'kind'))
  const parsed = plugin.parseStore({ name, values, baseDir: base, fromEnv: (key) => envPaths.has(`stores.${name}.${key}`) })
  if (!Array.isArray(parsed)) return parsed
  for (const p of parsed) {
    errors.push(inputError(p.code, p.message, { location: locate(yf, ['stores', name, ...p.path.split('.')]), ...(p.hint ? { hint: p.hint } : {}) }))
  }
  return undefined
}

const TEMPLATE_FIELD = /\{([^{}]*)\}/g
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

function toCollection(name: string, c: RawCollection, stores: Record<string, StoreConfig>, yf: YamlFile, errors: EmbedformError[]): DeclaredCollection | undefined {
  const at = (...path: (string | number)[]) => locate(yf, ['collections', name, ...path])
  const before = errors.length
  const store = stores[c.store]
  if (!store) {
    errors.push(inputError('E_REF_STORE', `collection "${name}" uses store "${c.store}", which is not declared under stores`, { location: at('store'), hint: didYouMean(c.store, Object.keys(stores)) }))
  }
  if ((c.table === undefined) === (c.alias === undefined)) {
    const both = c.table !== undefined
    errors.push(
      inputError('E_COLLECTION_TARGET', both ? `collection "${name}" sets both \`table\` and \`alias\`` : `collection "${name}" needs \`table\` (PostgreSQL) or \`alias\` (OpenSearch)`, {
        location: both ? at('alias') : { ...locate(yf, ['collections', name], 'key'), path: `collections.${name}.table` },
      }),
    )
  } else if (store) {
    const wants = storePlugin(store.kind).collection.target
    const other = wants === 'table' ? 'alias' : 'table'
    if (c[other] !== undefined) errors.push(inputError('E_COLLECTION_TARGET', `store "${store.name}" is ${store.kind}: name the ${wants} with \`${wants}\`, not \`${other}\``, { location: at(other) }))
  }

  const text = toTextSource(c, at, errors)
  if (text) {
    const textColumns = 'columns' in text ? text.columns : text.fields
    if (textColumns.includes(c.vector)) errors.push(inputError('E_COLUMN_CONFLICT', `vector column "${c.vector}" is also a text column`, { location: at('vector') }))
  }
  if (c.key === c.vector) errors.push(inputError('E_COLUMN_CONFLICT', `key and vector are both "${c.key}"`, { location: at('vector'), hint: 'the key column identifies rows; vectors go to their own column' }))
  // embedform names other generations `<vector>__g2`, `<alias>__g2`; a base name with the suffix would collide.
  for (const [key, value] of [['vector', c.vector], ['alias', c.alias]] as const) {
    if (value !== undefined && /__g\d+$/.test(value)) errors.push(inputError('E_IDENTIFIER', `"${value}" ends with __gN, which embedform reserves for generations`, { location: at(key) }))
  }
  if (errors.length > before) return undefined
  return {
    name,
    store: c.store,
    ...(c.profile !== undefined ? { profile: c.profile } : {}),
    target: (c.table ?? c.alias)!,
    key: c.key,
    text: text!,
    vector: c.vector,
    ...(c.updated_at !== undefined ? { updatedAt: c.updated_at } : {}),
    ...(c.adopted_profile !== undefined ? { adoptedProfile: c.adopted_profile } : {}),
  }
}

function toTextSource(c: RawCollection, at: (...p: (string | number)[]) => ReturnType<typeof locate>, errors: EmbedformError[]): TextSource | undefined {
  const separator = c.separator ?? '\n'
  if (typeof c.text === 'string') return { columns: [c.text], separator }
  if (Array.isArray(c.text)) {
    const columns = c.text
    const dup = columns.findIndex((col, i) => columns.indexOf(col) !== i)
    if (dup >= 0) {
      errors.push(inputError('E_TEXT_SOURCE', `text column "${columns[dup]}" is listed twice`, { location: at('text', dup) }))
      return undefined
    }
    return { columns, separator }
  }
  const template = c.text.template
  const fields = [...template.matchAll(TEMPLATE_FIELD)].map((m) => m[1]!)
  const stray = template.replace(TEMPLATE_FIELD, '').match(/[{}]/)
  if (stray || fields.length === 0) {
    errors.push(
      inputError('E_TEXT_TEMPLATE', stray ? `unbalanced brace in template ${JSON.stringify(template)}` : `template ${JSON.stringify(template)} names no fields`, {
        location: at('text', 'template'),
        hint: 'write fields in braces: "{title}\\n{body}"',
      }),
    )
    return undefined
  }
  const bad = fields.find((f) => !IDENT.test(f))
  if (bad !== undefined) {
    errors.push(inputError('E_IDENTIFIER', `template field {${bad}} is not an identifier`, { location: at('text', 'template'), hint: 'letters, digits and underscores only' }))
    return undefined
  }
  if (c.separator !== undefined) errors.push(inputError('E_TEXT_SOURCE', '`separator` only applies to a list of text columns; a template places its own separators', { location: at('separator') }))
  return { template, fields: [...new Set(fields)] }
}

function duplicateTargets(collections: Record<string, DeclaredCollection>, stores: Record<string, StoreConfig>, yf: YamlFile, errors: EmbedformError[]): void {
  const seen = new Map<string, string>()
  for (const c of Object.values(collections)) {
    const kind = stores[c.store]?.kind
    const canonical = kind ? storePlugin(kind).collection.canonicalTarget : undefined
    const id = `${c.store}|${canonical ? canonical(c.target) : c.target}|${c.vector}`
    const other = seen.get(id)
    if (other) {
      errors.push(inputError('E_COLLECTION_DUPLICATE', `collections "${other}" and "${c.name}" both write ${c.target}.${c.vector} in store ${c.store}`, { location: locate(yf, ['collections', c.name], 'key') }))
    } else seen.set(id, c.name)
  }
}
