/**
 * Store errors a user can fix without reading a stack trace: the store cannot be reached, the
 * credentials or URL are wrong, or the role lacks a privilege. Each names the store, where its
 * address comes from (the environment variable, when it is one) and the next step.
 */
import { EmbedformError, isEmbedformError } from '../core/errors.js'
import type { StoreConfig } from '../core/types.js'
import type { StoreAdapter } from '../store/adapter.js'
import { redactUrl } from '../util/redact.js'

type Problem = 'unreachable' | 'dns' | 'auth' | 'database' | 'url' | 'tls' | 'privilege'

const NODE_CODES: Record<string, Problem> = {
  ECONNREFUSED: 'unreachable',
  ETIMEDOUT: 'unreachable',
  ECONNRESET: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls',
}

/** PostgreSQL SQLSTATEs. */
const SQL_STATES: Record<string, Problem> = {
  '28P01': 'auth',
  '28000': 'auth',
  '3D000': 'database',
  '42501': 'privilege',
  '08001': 'unreachable',
  '08006': 'unreachable',
  '57P03': 'unreachable',
}

function classify(err: unknown): { problem: Problem; detail: string } | undefined {
  let current: unknown = err
  for (let depth = 0; current instanceof Error && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code
    const statusCode = (current as { statusCode?: unknown; meta?: { statusCode?: unknown } }).meta?.statusCode ?? (current as { statusCode?: unknown }).statusCode
    const message = current.message
    if (typeof code === 'string' && NODE_CODES[code]) return { problem: NODE_CODES[code], detail: message }
    if (typeof code === 'string' && SQL_STATES[code]) return { problem: SQL_STATES[code], detail: message }
    if (statusCode === 401) return { problem: 'auth', detail: message }
    if (statusCode === 403) return { problem: 'privilege', detail: message }
    if (current instanceof URIError || /URI malformed|Invalid URL/i.test(message)) return { problem: 'url', detail: message }
    if (/client password must be a string|password authentication failed/i.test(message)) return { problem: 'auth', detail: message }
    current = current.cause
  }
  return undefined
}

/** The store's address as it may be printed. */
function address(store: StoreConfig): string {
  if (store.kind === 'pgvector') return redactUrl(String(store.url))
  if (store.kind === 'opensearch') return redactUrl(String(store.node))
  return String(store.path ?? store.kind)
}

export interface StoreErrorContext {
  store: StoreConfig
  /** Environment variables the store's settings were expanded from, looked up only when an error needs them. */
  envVars: () => Promise<string[]>
}

const PERCENT_RULE = 'special characters in a password must be percent-encoded in the URL (@ → %40, : → %3A, / → %2F, # → %23, ? → %3F, % → %25)'

function urlKey(store: StoreConfig): string {
  return store.kind === 'opensearch' ? 'node' : store.kind === 'pgvector' ? 'url' : 'path'
}

async function hintFor(problem: Problem, ctx: StoreErrorContext): Promise<string> {
  const { store } = ctx
  const key = `stores.${store.name}.${urlKey(store)}`
  const vars = await ctx.envVars().catch(() => [])
  const from = vars.length > 0 ? `${key} (set from ${vars.map((v) => `$${v}`).join(', ')})` : key
  switch (problem) {
    case 'unreachable':
      return `check that the server is running and that ${from} names its host and port`
    case 'dns':
      return `the host name in ${from} does not resolve: check it`
    case 'auth':
      return store.kind === 'opensearch'
        ? `check stores.${store.name}.username/password${vars.length ? ` (set from ${vars.map((v) => `$${v}`).join(', ')})` : ''}`
        : `check the user and password in ${from}; ${PERCENT_RULE}`
    case 'database':
      return `create the database, or fix its name in ${from}`
    case 'url':
      return `${from} is not a valid URL; ${PERCENT_RULE}`
    case 'tls':
      return `the server's certificate is not trusted: install its CA, or set stores.${store.name}.insecure: true for a development cluster`
    case 'privilege':
      return 'grant the privileges this command needs (docs/privileges.md lists them per command), or run embedform as the table owner'
  }
}

const TITLE: Record<Problem, string> = {
  unreachable: 'cannot reach',
  dns: 'cannot resolve the host of',
  auth: 'authentication failed for',
  database: 'the database does not exist for',
  url: 'the address is not a valid URL for',
  tls: 'TLS verification failed for',
  privilege: 'missing privilege on',
}

export async function translateStoreError(err: unknown, ctx: StoreErrorContext): Promise<unknown> {
  const found = classify(err)
  if (!found) return err
  const { store } = ctx
  const location = isEmbedformError(err) && err.location ? err.location : { path: `stores.${store.name}` }
  const code = found.problem === 'privilege' ? 'E_STORE_PRIVILEGE' : 'E_STORE_CONNECT'
  return new EmbedformError({
    code,
    message: `${TITLE[found.problem]} store "${store.name}" (${store.kind} at ${address(store)}): ${redactUrl(found.detail)}`,
    kind: 'failure',
    location,
    hint: await hintFor(found.problem, ctx),
    cause: err,
  })
}

/**
 * The adapter, with every operation's store errors translated. Operations and results are passed
 * through unchanged; only errors are rewritten.
 */
export function withStoreErrors(adapter: StoreAdapter, ctx: StoreErrorContext): StoreAdapter {
  const wrapIterable = (it: AsyncIterable<unknown>): AsyncIterable<unknown> => ({
    [Symbol.asyncIterator]() {
      const inner = it[Symbol.asyncIterator]()
      return {
        next: async (...args: [] | [unknown]) => {
          try {
            return await inner.next(...args)
          } catch (err) {
            throw await translateStoreError(err, ctx)
          }
        },
        return: async (value?: unknown) => (inner.return ? inner.return(value) : { done: true as const, value }),
      }
    },
  })
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        let result: unknown
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args)
        } catch (err) {
          // Synchronous throws are input checks (identifiers), never connection problems.
          throw err
        }
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          return (result as Promise<unknown>).catch(async (err: unknown) => {
            throw await translateStoreError(err, ctx)
          })
        }
        if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return wrapIterable(result as AsyncIterable<unknown>)
        return result
      }
    },
  })
}
