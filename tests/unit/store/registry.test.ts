import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import type { StorePlugin } from '../../../src/store/plugin.js'
import { findStorePlugin, indexSections, registerModule, registerStorePlugin, storeKinds, storePlugin } from '../../../src/store/registry.js'

function fake(kind: string, section = kind, schema: Record<string, unknown> = { type: 'object' }): StorePlugin {
  return {
    kind,
    description: 'test',
    storeSchema: { properties: {} },
    parseStore: (e) => ({ name: e.name, kind }),
    collection: { target: 'table' },
    index: { section, schema, defaults: {}, parse: (s) => s, validate: () => [], plan: () => ({ build: false, label: 'none' }) },
    create: async () => {
      throw new Error('not opened here')
    },
  }
}

const codeOf = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return (e as EmbedformError).code
  }
  return undefined
}

describe('store registry', () => {
  it('registers the built-in stores through the same path as any plugin, pglite and pgvector sharing one index section', () => {
    expect(storeKinds()).toEqual(expect.arrayContaining(['pglite', 'pgvector', 'opensearch']))
    expect(findStorePlugin('pglite')!.index).toBe(findStorePlugin('pgvector')!.index)
    expect([...indexSections().keys()]).toEqual(expect.arrayContaining(['pgvector', 'opensearch']))
  })

  it('accepts a module exporting `plugin`, `plugins` or a default, and refuses one exporting none', () => {
    expect(registerModule({ plugin: fake('alpha') }, 'a').map((p) => p.kind)).toEqual(['alpha'])
    expect(registerModule({ plugins: [fake('beta'), fake('gamma')] }, 'b').map((p) => p.kind)).toEqual(['beta', 'gamma'])
    expect(registerModule({ default: fake('delta') }, 'c').map((p) => p.kind)).toEqual(['delta'])
    expect(codeOf(() => registerModule({}, 'empty'))).toBe('E_PLUGIN_INVALID')
  })

  it('refuses a kind that is not a plain lowercase name, and a second plugin redefining a shared section', () => {
    expect(codeOf(() => registerStorePlugin(fake('Bad Kind')))).toBe('E_PLUGIN_INVALID')
    expect(codeOf(() => registerStorePlugin(fake('pgclone', 'pgvector')))).toBe('E_PLUGIN_INVALID')
    // The same rules by value (a second copy of the pgvector plugin) are fine.
    expect(codeOf(() => registerStorePlugin({ ...fake('pgcopy', 'pgvector'), index: { ...findStorePlugin('pgvector')!.index } }))).toBeUndefined()
  })

  it('names the known kinds, and `plugins:`, for an unknown one', () => {
    let err: EmbedformError | undefined
    try {
      storePlugin('qdrant', { path: 'stores.q.kind' })
    } catch (e) {
      err = e as EmbedformError
    }
    expect(err).toMatchObject({ code: 'E_STORE_KIND', location: { path: 'stores.q.kind' } })
    expect(err!.hint).toMatch(/pglite, pgvector, opensearch.*plugins:/)
  })
})
