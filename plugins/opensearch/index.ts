import { inputError } from '../../src/core/errors.js'
import type { StorePlugin } from '../../src/store/adapter.js'
import { OpenSearchAdapter } from './adapter.js'
import { OsHttp } from './http.js'
import type { OpenSearchStore } from './settings.js'

export { OpenSearchAdapter, generationIndex, type OpenSearchAdapterOptions } from './adapter.js'
export { OsHttp } from './http.js'
export { STATE_INDEX } from './state.js'

export const plugin: StorePlugin = {
  kind: 'opensearch',
  async create(store) {
    if (store.kind !== 'opensearch') {
      throw inputError('E_STORE_KIND', `store ${store.name} is ${store.kind}, not opensearch`, { location: { path: `stores.${store.name}.kind` } })
    }
    return new OpenSearchAdapter(OsHttp.fromStore(store as OpenSearchStore))
  },
}
export { knnAdvice, knnViolations, NEWEST_KNOWN, type ClusterVersion, type KnnRuleViolation } from './knn-rules.js'
export { knnInput } from './mapping.js'
