import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { inputError, type ErrorLocation } from '../core/errors.js'
import { stableJson } from '../core/fingerprint.js'
import type { StoreConfig } from '../core/types.js'
import * as opensearch from '../../plugins/opensearch/rules.js'
import * as pgvector from '../../plugins/pgvector/rules.js'
import type { AdapterContext, StoreAdapter } from './adapter.js'
import type { StorePlugin, StorePluginModule } from './plugin.js'

/**
 * Store plugins by kind. One registry per process, kept on globalThis: a plugin installed with
 * its own copy of embedform registers into the same map the CLI reads.
 */
interface Registry {
  plugins: Map<string, StorePlugin>
  /** Changes on every registration, so compiled schemas know when to recompile. */
  revision: number
  /** Module specifiers already loaded (resolved path), so `plugins:` in two configs loads once. */
  loaded: Set<string>
}

const KEY = Symbol.for('embedform.store-registry')
const KIND = /^[a-z][a-z0-9_-]*$/

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry }
  g[KEY] ??= { plugins: new Map(), revision: 0, loaded: new Set() }
  return g[KEY]
}

export function registerStorePlugin(plugin: StorePlugin): void {
  if (!KIND.test(plugin.kind)) {
    throw inputError('E_PLUGIN_INVALID', `store plugin kind "${plugin.kind}" is not a valid kind`, { hint: 'kinds are lowercase letters, digits, `_` and `-`' })
  }
  const r = registry()
  const sharing = [...r.plugins.values()].find((p) => p.kind !== plugin.kind && p.index.section === plugin.index.section)
  // Compared by value: two copies of one package (a plugin bundling its own embedform) register equal rules.
  if (sharing && stableJson([sharing.index.schema, sharing.index.defaults]) !== stableJson([plugin.index.schema, plugin.index.defaults])) {
    throw inputError('E_PLUGIN_INVALID', `store plugin "${plugin.kind}" redefines index section "${plugin.index.section}" of "${sharing.kind}"`, {
      hint: 'kinds that share a section must share its schema and defaults; pick another section name',
    })
  }
  r.plugins.set(plugin.kind, plugin)
  r.revision++
}

/** Registers what a plugin module exports: `plugin`, `plugins`, or a default export of either. */
export function registerModule(mod: StorePluginModule, from: string, location?: ErrorLocation): StorePlugin[] {
  const found = pluginsOf(mod)
  if (found.length === 0) {
    throw inputError('E_PLUGIN_INVALID', `${from} exports no store plugin`, { ...(location ? { location } : {}), hint: 'export `plugin` (a StorePlugin) or `plugins` (a list) from the module' })
  }
  for (const p of found) registerStorePlugin(p)
  return found
}

function isPlugin(v: unknown): v is StorePlugin {
  return typeof v === 'object' && v !== null && typeof (v as StorePlugin).kind === 'string' && typeof (v as StorePlugin).create === 'function' && typeof (v as StorePlugin).index === 'object'
}

function pluginsOf(mod: StorePluginModule): StorePlugin[] {
  const candidates: unknown[] = [mod.plugin, ...(mod.plugins ?? [])]
  const d = mod.default
  if (Array.isArray(d)) candidates.push(...d)
  else if (isPlugin(d)) candidates.push(d)
  else if (d && typeof d === 'object') candidates.push(d.plugin, ...(d.plugins ?? []))
  return candidates.filter(isPlugin)
}

/**
 * Loads a plugin named in `plugins:`: a relative or absolute path (resolved against the config's
 * directory) or a package name resolved from there, as Node would for a file in that directory.
 */
export async function loadPluginModule(specifier: string, baseDir: string, location?: ErrorLocation): Promise<StorePlugin[]> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier)
  let resolved: string
  try {
    const from = createRequire(join(baseDir, 'embedding.config.yaml'))
    const path = resolve(baseDir, specifier)
    // A path to a package directory loads that package's entry, as its package.json names it.
    const stat = isPath ? statSync(path, { throwIfNoEntry: false }) : undefined
    if (isPath && !stat) throw new Error(`${path} does not exist`)
    resolved = !isPath ? from.resolve(specifier) : stat!.isDirectory() ? from.resolve(path) : path
  } catch {
    throw inputError('E_PLUGIN_NOT_FOUND', `store plugin "${specifier}" is not installed where ${baseDir} can find it`, {
      ...(location ? { location } : {}),
      hint: isPath ? 'check the path (it is relative to embedding.config.yaml)' : `npm install ${specifier} in your project, or name it by path`,
    })
  }
  const r = registry()
  if (r.loaded.has(resolved)) return []
  let mod: StorePluginModule
  try {
    mod = (await import(pathToFileURL(resolved).href)) as StorePluginModule
  } catch (e) {
    throw inputError('E_PLUGIN_LOAD', `store plugin "${specifier}" failed to load: ${(e as Error).message}`, {
      ...(location ? { location } : {}),
      hint: `check that ${resolved} is a built ES module`,
    })
  }
  const found = registerModule(mod, `store plugin "${specifier}"`, location)
  r.loaded.add(resolved)
  return found
}

registerModule(pgvector, 'plugins/pgvector')
registerModule(opensearch, 'plugins/opensearch')

export function storePlugins(): StorePlugin[] {
  return [...registry().plugins.values()]
}

export function registryRevision(): number {
  return registry().revision
}

export function storeKinds(): string[] {
  return [...registry().plugins.keys()]
}

export function findStorePlugin(kind: string): StorePlugin | undefined {
  return registry().plugins.get(kind)
}

/** The plugin of a registered kind; an input error naming the known kinds otherwise. */
export function storePlugin(kind: string, location: ErrorLocation = {}): StorePlugin {
  const p = registry().plugins.get(kind)
  if (!p) {
    throw inputError('E_STORE_KIND', `no store plugin for kind "${kind}"`, {
      location,
      hint: `known kinds: ${storeKinds().join(', ')}; a third-party store is loaded with \`plugins:\` in embedding.config.yaml`,
    })
  }
  return p
}

/** Index sections of all registered plugins, one rules object per section. */
export function indexSections(): Map<string, StorePlugin['index']> {
  const out = new Map<string, StorePlugin['index']>()
  for (const p of registry().plugins.values()) if (!out.has(p.index.section)) out.set(p.index.section, p.index)
  return out
}

export async function openStore(store: StoreConfig, ctx: AdapterContext): Promise<StoreAdapter> {
  return storePlugin(store.kind, { path: `stores.${store.name}.kind` }).create(store, ctx)
}
