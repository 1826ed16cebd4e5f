import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { hostname, userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { loadConfig, resolveWithSources } from '../config/index.js'
import { assertStoreResolved } from '../config/unresolved-store.js'
import { inputError } from '../core/errors.js'
import type { ProgressListener } from '../core/events.js'
import type { Config } from '../core/types.js'
import { openEncoder } from '../encoder/index.js'
import type { EncoderOptions, OpenEncoder } from '../encoder/types.js'
import { readPlanFile, writePlanFile } from '../plan/index.js'
import type { EngineContext, Plan } from '../plan/types.js'
import type { Journal, StoreAdapter } from '../store/adapter.js'
import { openStore } from '../store/registry.js'
import { translateStoreError, withStoreErrors } from './store-errors.js'

export interface EngineContextOptions {
  onEvent?: ProgressListener
  encoderOptions?: EncoderOptions
  /** Where adapters report what they do (DDL retries, notices); stderr in the CLI. */
  log?: (message: string) => void
  /** Tests swap the encoder; the CLI always uses the real one. */
  openEncoder?: OpenEncoder
  holder?: string
}

/** Who holds the migration lock, as other users will see it in `status` and lock errors. */
export function migrationHolder(): string {
  let user = process.env.USER ?? process.env.LOGNAME ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // Containers often run as a uid with no passwd entry; the environment name is the best we have.
  }
  return `${user}@${hostname()} pid ${process.pid}`
}

/**
 * An EngineContext over a loaded Config. Adapters open on first use and are cached per store,
 * so a plan touching one store never connects to the others; close() closes whatever opened.
 */
export function engineContextFor(config: Config, opts: EngineContextOptions = {}): EngineContext {
  const baseDir = dirname(config.file)
  const adapters = new Map<string, Promise<StoreAdapter>>()

  const adapterFor = (storeName: string): Promise<StoreAdapter> => {
    const cached = adapters.get(storeName)
    if (cached) return cached
    const store = config.stores[storeName]
    if (!store) {
      return Promise.reject(
        inputError('E_UNKNOWN_STORE', `store "${storeName}" is not declared in ${config.file}`, {
          location: { file: config.file, path: 'stores' },
          hint: `declared stores: ${Object.keys(config.stores).join(', ') || '(none)'}`,
        }),
      )
    }
    try {
      assertStoreResolved(store)
    } catch (e) {
      return Promise.reject(e)
    }
    const errorContext = { store, envVars: () => storeEnvVars(config, storeName) }
    const opening = openStore(store, { baseDir, ...(opts.log ? { log: opts.log } : {}) }).then(
      (adapter) => withStoreErrors(adapter, errorContext),
      async (err: unknown) => {
        throw await translateStoreError(err, errorContext)
      },
    )
    adapters.set(storeName, opening)
    // A failed open must not poison the cache: the next call retries.
    opening.catch(() => adapters.delete(storeName))
    return opening
  }

  return {
    config,
    adapterFor,
    openEncoder: opts.openEncoder ?? openEncoder,
    ...(opts.encoderOptions ? { encoderOptions: opts.encoderOptions } : {}),
    holder: opts.holder ?? migrationHolder(),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    async close() {
      const opened = [...adapters.values()]
      adapters.clear()
      const results = await Promise.allSettled(opened.map(async (p) => (await p).close()))
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    },
  }
}

/** Environment variables the store's settings came from (`${env:DATABASE_URL}`), for error hints. */
async function storeEnvVars(config: Config, storeName: string): Promise<string[]> {
  const { settings } = await resolveWithSources({ configPath: config.file, cwd: dirname(config.file) })
  const names = settings
    .filter((row) => row.path.startsWith(`stores.${storeName}.`))
    .flatMap((row) => [...row.source.matchAll(/env:([A-Za-z0-9_,]+)/g)].flatMap((m) => m[1]!.split(',')))
  return [...new Set(names)]
}

/** Loads the config named by `--config` (relative to cwd) and wraps it in an EngineContext. */
export async function createEngineContext(
  configPath: string,
  opts: EngineContextOptions & { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<EngineContext> {
  const cwd = opts.cwd ?? process.cwd()
  const config = await loadConfig({ configPath: resolve(cwd, configPath), cwd, ...(opts.env ? { env: opts.env } : {}) })
  return engineContextFor(config, opts)
}

/**
 * The collection a single-collection command (rollback) acts on: the one named, or the only one
 * configured. Guessing among several would be a surprise, so that is an input error.
 */
export function pickCollection(config: Config, name: string | undefined): string {
  const names = Object.keys(config.collections)
  if (name !== undefined) {
    if (!config.collections[name]) {
      throw inputError('E_UNKNOWN_COLLECTION', `collection "${name}" is not declared in ${config.file}`, {
        location: { file: config.file, path: 'collections' },
        hint: `declared collections: ${names.join(', ') || '(none)'}`,
      })
    }
    return name
  }
  const only = names[0]
  if (names.length === 1 && only !== undefined) return only
  throw inputError('E_COLLECTION_REQUIRED', names.length === 0 ? `no collections are declared in ${config.file}` : 'several collections are configured; say which one', {
    location: { file: config.file, path: 'collections' },
    hint: names.length === 0 ? 'declare one under `collections:`' : `pass --collection with one of: ${names.join(', ')}`,
  })
}

/**
 * Plans that `apply` (without a plan file) is executing, kept next to the configuration. The
 * store's journal names the plan it belongs to, and the engine resumes only that very plan, so
 * a killed apply needs it back: `embedform apply` finds it here and continues.
 */
export function stashedPlanPath(config: Config, planId: string): string {
  return join(dirname(config.file), '.embedform', 'plans', `${planId}.json`)
}

export async function stashPlan(config: Config, plan: Plan): Promise<string> {
  const path = stashedPlanPath(config, plan.id)
  await mkdir(dirname(path), { recursive: true })
  await writePlanFile(path, plan)
  return path
}

export async function dropStashedPlan(config: Config, planId: string): Promise<void> {
  await rm(stashedPlanPath(config, planId), { force: true })
}

export interface InFlightApply {
  planId: string
  collection: string
  /** The stashed plan, when this checkout started the apply; undefined otherwise. */
  plan: Plan | undefined
  journal: Journal
}

/** The first apply left in flight on any configured collection, read from the stores' journals. */
export async function findInFlightApply(ctx: EngineContext): Promise<InFlightApply | undefined> {
  for (const c of Object.values(ctx.config.collections)) {
    const journal = await (await ctx.adapterFor(c.store)).readJournal(c)
    if (!journal) continue
    const path = stashedPlanPath(ctx.config, journal.planId)
    const plan = existsSync(path) ? await readPlanFile(path) : undefined
    return { planId: journal.planId, collection: c.name, plan, journal }
  }
  return undefined
}
