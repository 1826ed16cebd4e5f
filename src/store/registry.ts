import { inputError } from '../core/errors.js'
import type { StoreConfig } from '../core/types.js'
import type { AdapterContext, StoreAdapter, StorePlugin } from './adapter.js'

/**
 * Store plugins by kind. Built-ins register lazily so a command that never touches OpenSearch
 * never loads its client. Third-party plugins call registerStorePlugin().
 */
const plugins = new Map<string, () => Promise<StorePlugin>>([
  ['pgvector', async () => (await import('../../plugins/pgvector/index.js')).plugin],
  ['pglite', async () => (await import('../../plugins/pgvector/index.js')).plugin],
  ['opensearch', async () => (await import('../../plugins/opensearch/index.js')).plugin],
])

export function registerStorePlugin(plugin: StorePlugin): void {
  plugins.set(plugin.kind, async () => plugin)
}

export async function openStore(store: StoreConfig, ctx: AdapterContext): Promise<StoreAdapter> {
  const load = plugins.get(store.kind)
  if (!load) {
    throw inputError('E_STORE_KIND', `no store plugin for kind "${store.kind}"`, {
      location: { path: `stores.${store.name}.kind` },
      hint: `known kinds: ${[...plugins.keys()].join(', ')}`,
    })
  }
  return (await load()).create(store, ctx)
}
