import { describe, expect, it } from 'vitest'
import { withStoreErrors, translateStoreError } from '../../../src/cli/store-errors.js'
import { failure } from '../../../src/core/errors.js'
import type { StoreConfig } from '../../../src/core/types.js'
import type { StoreAdapter } from '../../../src/store/adapter.js'

const store: StoreConfig = { name: 'main', kind: 'pgvector', url: 'postgres://app:s3cret@db:5432/app' }
const ctx = { store, envVars: async () => ['DATABASE_URL'] }
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code })

describe('store errors', () => {
  it('turns a refused connection inside an adapter error into E_STORE_CONNECT naming store, address and variable', async () => {
    const wrapped = failure('E_STORE', 'inspect failed', { cause: pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'), location: { object: 'table public.docs' } })
    const e = (await translateStoreError(wrapped, ctx)) as { code: string; message: string; hint: string; location: unknown }
    expect(e.code).toBe('E_STORE_CONNECT')
    expect(e.message).toBe('cannot reach store "main" (pgvector at postgres://app:****@db:5432/app): connect ECONNREFUSED 10.0.0.1:5432')
    expect(e.hint).toBe('check that the server is running and that stores.main.url (set from $DATABASE_URL) names its host and port')
    expect(e.location).toEqual({ object: 'table public.docs' })
  })

  it('names the percent-encoding rule for authentication and malformed URLs', async () => {
    const auth = (await translateStoreError(pgError('28P01', 'password authentication failed for user "app"'), ctx)) as { hint: string }
    expect(auth.hint).toMatch(/check the user and password in stores\.main\.url \(set from \$DATABASE_URL\); special characters .* % → %25/)
    const url = (await translateStoreError(new URIError('URI malformed'), ctx)) as { code: string; hint: string }
    expect(url.code).toBe('E_STORE_CONNECT')
    expect(url.hint).toMatch(/is not a valid URL; special characters in a password must be percent-encoded/)
  })

  it('leaves other errors alone', async () => {
    const other = failure('E_LOCK_HELD', 'locked')
    expect(await translateStoreError(other, ctx)).toBe(other)
  })

  it('translates errors of promises and of async iterables, and passes results through', async () => {
    const adapter = {
      kind: 'pgvector',
      async inspect() {
        throw pgError('3D000', 'database "app" does not exist')
      },
      async readJournal() {
        return null
      },
      async *pending() {
        yield [{ key: 1, text: 'a' }]
        throw pgError('57P03', 'the database system is starting up')
      },
    } as unknown as StoreAdapter
    const a = withStoreErrors(adapter, ctx)
    expect(a.kind).toBe('pgvector')
    expect(await a.readJournal({} as never)).toBeNull()
    await expect(a.inspect({} as never)).rejects.toMatchObject({ code: 'E_STORE_CONNECT', message: expect.stringMatching(/^the database does not exist for store "main"/) })
    const seen: unknown[] = []
    await expect(
      (async () => {
        for await (const rows of a.pending({} as never, 1, { batchSize: 1, phase: 'backfill' })) seen.push(rows)
      })(),
    ).rejects.toMatchObject({ code: 'E_STORE_CONNECT' })
    expect(seen).toEqual([[{ key: 1, text: 'a' }]])
  })
})
