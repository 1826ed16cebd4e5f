/**
 * `embedform`: the library. Everything the CLI does is a function here: load a configuration,
 * plan, apply, status, rollback, search. Stores are discovered from `plugins:` in the config, or
 * passed by value (a StorePlugin to register, or an already-open StoreAdapter for a store name).
 */
import { resolve } from 'node:path'
import { applyPlan } from './apply/executor.js'
import type { ApplyOptions, ApplyResult, RollbackResult, StatusReport } from './apply/types.js'
import { engineContextFor, migrationHolder, type EngineContextOptions } from './cli/engine-context.js'
import { loadConfig, type ProfileOverrides } from './config/index.js'
import type { Config } from './core/types.js'
import { openReranker } from './encoder/index.js'
import { rollback as rollbackCollection } from './engine/rollback.js'
import { status as statusOf } from './engine/status.js'
import { makePlan } from './plan/make.js'
import type { EngineContext, Plan } from './plan/types.js'
import { parseGenerationSelector } from './search/generation.js'
import { searchCollection } from './search/run.js'
import type { SearchResult } from './search/search.js'
import type { StoreAdapter } from './store/adapter.js'
import type { StorePlugin } from './store/plugin.js'
import { loadPluginModule, registerStorePlugin } from './store/registry.js'

export interface EngineOptions extends Omit<EngineContextOptions, 'holder'> {
  /** Path of embedding.config.yaml (relative to `cwd`), or a Config built in code. */
  config: string | Config
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Profile overrides, as the CLI's flags give them. */
  overrides?: ProfileOverrides
  /** Store plugins registered before the configuration is read, in addition to `plugins:` in it. */
  plugins?: (StorePlugin | string)[]
  /**
   * Adapters by store name, used instead of opening one from the store entry. The caller owns
   * them: the engine's close() leaves them open.
   */
  adapters?: Record<string, StoreAdapter>
  /** Who holds the migration lock; default `user@host pid N`. */
  holder?: string
}

export interface Engine {
  readonly config: Config
  /** The engine context the lower-level functions (and tests) take. */
  readonly context: EngineContext
  close(): Promise<void>
}

export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const cwd = opts.cwd ?? process.cwd()
  for (const p of opts.plugins ?? []) {
    if (typeof p === 'string') await loadPluginModule(p, cwd)
    else registerStorePlugin(p)
  }
  const config =
    typeof opts.config === 'string'
      ? await loadConfig({ configPath: resolve(cwd, opts.config), cwd, ...(opts.env ? { env: opts.env } : {}), ...(opts.overrides ? { overrides: opts.overrides } : {}) })
      : opts.config
  const { adapters = {}, ...rest } = opts
  const base = engineContextFor(config, { ...rest, holder: opts.holder ?? migrationHolder() })
  const context: EngineContext = {
    ...base,
    adapterFor: (store) => (adapters[store] ? Promise.resolve(adapters[store]) : base.adapterFor(store)),
    close: () => base.close(),
  }
  return { config, context, close: () => context.close() }
}

export function plan(engine: Engine, opts: { collections?: string[]; measure?: boolean } = {}): Promise<Plan> {
  return makePlan(engine.context, opts)
}

export function apply(engine: Engine, p: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  return applyPlan(engine.context, p, opts)
}

export function status(engine: Engine, collections?: string[]): Promise<StatusReport> {
  return statusOf(engine.context, collections)
}

export function rollback(engine: Engine, collection: string, opts: { to?: number } = {}): Promise<RollbackResult> {
  return rollbackCollection(engine.context, collection, opts)
}

export interface SearchOptions {
  collection?: string
  /** `live` (default) or a generation number. */
  generation?: 'live' | number
  k?: number
  rerank?: boolean
  hybrid?: boolean
}

export function search(engine: Engine, query: string, opts: SearchOptions = {}): Promise<SearchResult> {
  return searchCollection(engine.context, {
    query,
    ...(opts.collection ? { collection: opts.collection } : {}),
    generation: parseGenerationSelector(String(opts.generation ?? 'live'), { allowAll: false }),
    ...(opts.k ? { k: opts.k } : {}),
    ...(opts.rerank === undefined ? {} : { rerank: opts.rerank }),
    hybrid: opts.hybrid ?? false,
    openReranker,
  })
}

export { loadConfig, resolveWithSources, type LoadOptions, type ProfileOverrides } from './config/index.js'
export { openEncoder } from './encoder/index.js'
export type { Encoder, EncoderOptions } from './encoder/types.js'
export { registerStorePlugin, loadPluginModule, storeKinds } from './store/registry.js'
export { renderPlan, readPlanFile, writePlanFile, planHasChanges } from './plan/index.js'
export { EmbedformError, EmbedformErrors, formatError, isEmbedformError } from './core/errors.js'
export type { ApplyOptions, ApplyResult, RollbackResult, StatusReport } from './apply/types.js'
export type { Plan, CollectionPlan, PlanStep, EngineContext } from './plan/types.js'
export type { SearchResult, SearchHit } from './search/search.js'
export type { Collection, Config, Profile, StoreConfig } from './core/types.js'
export type { StoreAdapter } from './store/adapter.js'
export type { StorePlugin } from './store/plugin.js'
