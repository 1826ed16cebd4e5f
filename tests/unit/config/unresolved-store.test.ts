import { describe, expect, it } from 'vitest'
import { assertStoreResolved, unresolvedStoreErrors } from '../../../src/config/unresolved-store.js'
import { EmbedformErrors } from '../../../src/core/errors.js'
import { load, loadErrors, project } from './project.js'

const collection = (store: string) => `collections:\n  docs:\n    store: ${store}\n    table: docs\n    key: id\n    text: body\n    vector: embedding\n    profile: small\n`
const pgConfig = (url: string) => ({ 'embedding.config.yaml': `version: 1\nstores:\n  pg:\n    kind: pgvector\n    url: ${url}\n${collection('pg')}` })

describe('a store setting that names an unset environment variable', () => {
  it('loads: the store keeps only its name and kind, and opening it throws the E_ENV_MISSING error with its position', async () => {
    const config = await load(project(pgConfig('${env:EMBEDFORM_TEST_UNSET_URL}')))
    const store = config.stores.pg!
    expect(Object.keys(store)).toEqual(['name', 'kind'])
    expect(JSON.stringify(store)).toBe('{"name":"pg","kind":"pgvector"}')
    const [err] = unresolvedStoreErrors(store)
    expect(err).toMatchObject({ code: 'E_ENV_MISSING', message: 'environment variable EMBEDFORM_TEST_UNSET_URL is not set', location: { line: 5, path: 'stores.pg.url' } })
    expect(err!.hint).toMatch(/export EMBEDFORM_TEST_UNSET_URL=/)
    expect(() => assertStoreResolved(store)).toThrow(err)
    // Object spread (configs are copied on their way to the engine) keeps the pending error.
    expect(() => assertStoreResolved({ ...store })).toThrow(err)
  })

  it('reports every unset variable of the store together, inside a URL too', async () => {
    const config = await load(project(pgConfig('"postgres://${env:EMBEDFORM_TEST_UNSET_USER}:${env:EMBEDFORM_TEST_UNSET_PW}@h/db"')))
    let thrown: unknown
    try {
      assertStoreResolved(config.stores.pg!)
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(EmbedformErrors)
    expect((thrown as EmbedformErrors).errors.map((e) => e.message)).toEqual([
      'environment variable EMBEDFORM_TEST_UNSET_USER is not set',
      'environment variable EMBEDFORM_TEST_UNSET_PW is not set',
    ])
  })

  it('skips type checks of the unresolved value (a boolean from the environment), but checks the other keys', async () => {
    const os = (extra: string) => ({ 'embedding.config.yaml': `version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://h:9200\n    insecure: \${env:EMBEDFORM_TEST_UNSET_INSECURE}\n${extra}${collection('os').replace('table: docs', 'alias: docs')}` })
    const config = await load(project(os('')))
    expect(unresolvedStoreErrors(config.stores.os!).map((e) => e.location?.path)).toEqual(['stores.os.insecure'])
    const errors = await loadErrors(project(os('    nodee: x\n')))
    expect(errors.map((e) => e.code)).toEqual(['E_SCHEMA_UNKNOWN_KEY'])
  })

  it('a store whose variables are set parses as before, with no pending error', async () => {
    const config = await load(project(pgConfig('${env:EMBEDFORM_TEST_URL}')), { env: { EMBEDFORM_TEST_URL: 'postgres://u:p@h/db' } })
    expect(config.stores.pg).toEqual({ name: 'pg', kind: 'pgvector', url: 'postgres://u:p@h/db' })
    expect(unresolvedStoreErrors(config.stores.pg!)).toEqual([])
  })

  it('an unset variable outside store settings is still an error at load time', async () => {
    const errors = await loadErrors(project({ 'profiles/small.yaml': 'model: builtin:starter\ndimensions: ${env:EMBEDFORM_TEST_UNSET_DIMS}\n' }))
    expect(errors.map((e) => [e.code, e.location?.path])).toEqual([['E_ENV_MISSING', 'dimensions']])
  })
})
