import { isAbsolute, resolve } from 'node:path'
import { inputError } from '../../src/core/errors.js'
import type { StoreConfig } from '../../src/core/types.js'
import type { AdapterContext, StoreAdapter, StorePlugin } from '../../src/store/adapter.js'
import { PgvectorAdapter, type PgvectorAdapterOptions } from './adapter.js'
import { PgDriver } from './pg-driver.js'
import { PgliteDriver } from './pglite-driver.js'
import type { PgliteStore, PgvectorStore } from './settings.js'

export { PgvectorAdapter, pgIndexSettingsHash, type PgvectorAdapterOptions } from './adapter.js'
export type { Connection, Driver, Queryable, Session } from './driver.js'
export { PgDriver } from './pg-driver.js'
export { PgliteDriver } from './pglite-driver.js'

function adapterOptions(env: NodeJS.ProcessEnv, ctx: AdapterContext): Partial<PgvectorAdapterOptions> {
  return {
    ...(env.EMBEDFORM_PG_MAINTENANCE_WORK_MEM ? { maintenanceWorkMem: env.EMBEDFORM_PG_MAINTENANCE_WORK_MEM } : {}),
    ...(ctx.log ? { log: ctx.log } : {}),
  }
}

function pgliteDataDir(path: string, baseDir: string): string {
  if (path.startsWith('memory://') || isAbsolute(path)) return path
  return resolve(baseDir, path)
}

/** Serves both store kinds: `pgvector` (a PostgreSQL URL) and `pglite` (embedded, on disk). */
export const plugin: StorePlugin = {
  kind: 'pgvector',
  async create(store: StoreConfig, ctx: AdapterContext): Promise<StoreAdapter> {
    if (store.kind === 'pgvector') return new PgvectorAdapter('pgvector', new PgDriver((store as PgvectorStore).url), adapterOptions(process.env, ctx))
    if (store.kind === 'pglite') {
      return new PgvectorAdapter('pglite', await PgliteDriver.open(pgliteDataDir((store as PgliteStore).path, ctx.baseDir)), adapterOptions(process.env, ctx))
    }
    throw inputError('E_STORE_KIND', `the pgvector plugin cannot open a "${store.kind}" store`, {
      location: { path: `stores.${store.name}.kind` },
    })
  },
}
