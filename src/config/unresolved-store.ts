import { EmbedformErrors, type EmbedformError } from '../core/errors.js'
import type { StoreConfig } from '../core/types.js'

/**
 * A store whose settings name an unset environment variable is still a valid declaration:
 * `encode`, `validate` and `profile` never connect, so they must not fail over DATABASE_URL.
 * The unset-variable errors ride on the StoreConfig under a symbol (kept by object spread,
 * invisible to JSON and to printing) and are thrown when something opens the store.
 */
const UNRESOLVED = Symbol('embedform.unresolvedStore')

type Marked = StoreConfig & { [UNRESOLVED]?: EmbedformError[] }

/** The StoreConfig of a store that cannot be opened until `errors` are fixed (only name and kind are known). */
export function unresolvedStore(name: string, kind: string, errors: EmbedformError[]): StoreConfig {
  const store: Marked = { name, kind }
  store[UNRESOLVED] = errors
  return store
}

/** The unset-variable errors of a store's settings; empty when it can be opened. */
export function unresolvedStoreErrors(store: StoreConfig): EmbedformError[] {
  return (store as Marked)[UNRESOLVED] ?? []
}

/** Throws the store's unset-variable errors (one as itself, several together) before anything connects. */
export function assertStoreResolved(store: StoreConfig): void {
  const errors = unresolvedStoreErrors(store)
  if (errors.length === 1) throw errors[0]!
  if (errors.length > 1) throw new EmbedformErrors(errors)
}
