/**
 * `embedform/plugin`: everything a store plugin needs, and nothing from inside the engine.
 * A plugin imports only this entry (and `embedform/testing` in its tests).
 */
import { createHash } from 'node:crypto'
import { stableJson } from './core/fingerprint.js'
import type { StorePlugin } from './store/plugin.js'

export type * from './store/adapter.js'
export type { CollectionRules, IndexPlan, IndexRules, JsonSchema, PluginProblem, ProfileView, StoreEntry, StorePlugin, StorePluginModule } from './store/plugin.js'
export type {
  Collection,
  Device,
  IndexSections,
  IndexSettings,
  Metric,
  ModelSource,
  Pooling,
  Profile,
  StoreConfig,
  StoreKind,
  TextSource,
  VectorStorage,
} from './core/types.js'
export { EmbedformError, EmbedformErrors, ExitCode, failure, formatError, inputError, isEmbedformError, type ErrorDetails, type ErrorLocation } from './core/errors.js'
export { fingerprint, fingerprintInputs, stableJson } from './core/fingerprint.js'

/** Short, stable hash of any JSON-like value (key order does not matter): for settings hashes and versions. */
export function stableHash(value: unknown, length = 16): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, length)
}

/** Identity, for type inference: `export const plugin = defineStorePlugin({ ... })`. */
export function defineStorePlugin(plugin: StorePlugin): StorePlugin {
  return plugin
}
