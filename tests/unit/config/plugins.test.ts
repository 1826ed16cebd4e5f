import { basename } from 'node:path'
import { describe, expect, it } from 'vitest'
import { storeKinds } from '../../../src/store/registry.js'
import { load, loadErrors, project } from './project.js'

/** A third-party store plugin as a plain ES module: nothing imported from embedform at all. */
const VECTRA_PLUGIN = `
export const plugin = {
  kind: 'vectra',
  description: 'a store from outside the repository',
  storeSchema: { required: ['endpoint'], properties: { endpoint: { type: 'string', minLength: 1 } } },
  parseStore(e) {
    if (!e.values.endpoint.startsWith('vectra://')) return [{ code: 'E_STORE_URL', message: 'endpoint must start with vectra://', path: 'endpoint' }]
    return { name: e.name, kind: 'vectra', endpoint: e.values.endpoint }
  },
  collection: { target: 'table' },
  index: {
    section: 'vectra',
    schema: { type: 'object', additionalProperties: false, properties: { graph: { type: 'integer', minimum: 2, maximum: 64 } } },
    defaults: { graph: 8 },
    parse: (s) => ({ graph: s.graph }),
    validate: (p) => (p.get('dimensions') > 512 ? [{ code: 'E_INDEX_DIMENSIONS', message: 'vectra indexes at most 512 dims', path: 'dimensions' }] : []),
    plan: (s) => ({ build: true, label: 'graph(' + s.vectra.graph + ')' }),
  },
  async create() { throw new Error('not opened in config tests') },
}
`

const vectraConfig = (store = '    endpoint: vectra://localhost\n') => `version: 1
plugins:
  - ./vectra-plugin.js
default_profile: small
stores:
  vec:
    kind: vectra
${store}collections:
  docs:
    store: vec
    table: docs
    key: id
    text: body
    vector: embedding
`

describe('store plugins named in `plugins:`', () => {
  it('loads a plugin by relative path before validation: its store kind and index section are checked like built-ins', async () => {
    const dir = project({ 'vectra-plugin.js': VECTRA_PLUGIN, 'embedding.config.yaml': vectraConfig(), 'profiles/small.yaml': 'extends: _base\nmodel: builtin:starter\ndimensions: 100\nindex:\n  vectra:\n    graph: 16\n' })
    const config = await load(dir)
    expect(storeKinds()).toContain('vectra')
    expect(config.stores.vec).toEqual({ name: 'vec', kind: 'vectra', endpoint: 'vectra://localhost' })
    expect(config.profiles.small!.index.vectra).toEqual({ graph: 16 })
    // Every registered section is defaulted, so any store can read its own.
    expect(config.profiles.small!.index.pgvector).toMatchObject({ type: 'hnsw', m: 16 })
  })

  it('reports a plugin store entry key it does not know, and its own value checks, at file:line', async () => {
    const unknown = await loadErrors(project({ 'vectra-plugin.js': VECTRA_PLUGIN, 'embedding.config.yaml': vectraConfig('    endpoint: vectra://x\n    endpont: typo\n') }))
    expect(unknown[0]).toMatchObject({ code: 'E_SCHEMA_UNKNOWN_KEY', location: { line: 9, path: 'stores.vec.endpont' } })
    expect(unknown[0]!.hint).toMatch(/`endpoint`/)
    const bad = await loadErrors(project({ 'vectra-plugin.js': VECTRA_PLUGIN, 'embedding.config.yaml': vectraConfig('    endpoint: http://x\n') }))
    expect(bad[0]).toMatchObject({ code: 'E_STORE_URL', location: { line: 8, path: 'stores.vec.endpoint' } })
  })

  it("checks a profile's plugin section with the plugin's schema, at the profile's file:line", async () => {
    const errors = await loadErrors(project({ 'vectra-plugin.js': VECTRA_PLUGIN, 'embedding.config.yaml': vectraConfig(), 'profiles/small.yaml': 'extends: _base\nmodel: builtin:starter\ndimensions: 100\nindex:\n  vectra:\n    graph: 1000\n' }))
    expect(errors[0]).toMatchObject({ code: 'E_SCHEMA_RANGE', location: { line: 6, path: 'index.vectra.graph' } })
    expect(basename(errors[0]!.location!.file!)).toBe('small.yaml')
  })

  it('points at `plugins:` for a profile section of a store whose plugin is not loaded', async () => {
    const errors = await loadErrors(project({ 'profiles/small.yaml': 'extends: _base\nmodel: builtin:starter\ndimensions: 100\nindex:\n  lancedb:\n    type: ivf_flat\n' }))
    expect(errors[0]).toMatchObject({ code: 'E_SCHEMA_UNKNOWN_KEY', location: { line: 5, path: 'index.lancedb' } })
    expect(errors[0]!.hint).toMatch(/plugins:/)
  })

  it('loads a plugin package by its directory path', async () => {
    const dir = project({
      'vendor/vectra/package.json': JSON.stringify({ name: 'vectra-store', type: 'module', main: './lib/plugin.js' }),
      'vendor/vectra/lib/plugin.js': VECTRA_PLUGIN,
      'embedding.config.yaml': vectraConfig().replace('./vectra-plugin.js', './vendor/vectra'),
    })
    expect((await load(dir)).stores.vec).toMatchObject({ kind: 'vectra' })
  })

  it('names a plugin that cannot be found, at its line in `plugins:`', async () => {
    const errors = await loadErrors(project({ 'embedding.config.yaml': 'version: 1\nplugins:\n  - embedform-store-nowhere\n' }))
    expect(errors[0]).toMatchObject({ code: 'E_PLUGIN_NOT_FOUND', location: { line: 3, path: 'plugins.0' } })
    expect(errors[0]!.hint).toMatch(/npm install embedform-store-nowhere/)
  })

  it('names a missing plugin file, and a module that exports no store plugin, at their lines', async () => {
    const missing = await loadErrors(project({ 'embedding.config.yaml': 'version: 1\nplugins:\n  - ./nowhere.js\n' }))
    expect(missing[0]).toMatchObject({ code: 'E_PLUGIN_NOT_FOUND', location: { line: 3, path: 'plugins.0' } })
    const empty = await loadErrors(project({ 'empty.js': 'export const nothing = 1\n', 'embedding.config.yaml': 'version: 1\nplugins:\n  - ./empty.js\n' }))
    expect(empty[0]).toMatchObject({ code: 'E_PLUGIN_INVALID', location: { line: 3, path: 'plugins.0' } })
  })

  it('names the kinds it knows, and `plugins:`, for an unknown store kind', async () => {
    const errors = await loadErrors(project({ 'embedding.config.yaml': 'version: 1\nstores:\n  q:\n    kind: qdrant\n' }))
    expect(errors[0]).toMatchObject({ code: 'E_SCHEMA_ENUM', location: { line: 4, path: 'stores.q.kind' } })
    expect(errors[0]!.message).toMatch(/expected pglite \| pgvector \| opensearch/)
    expect(errors[0]!.hint).toMatch(/plugins:/)
  })
})

describe('a profile valid for one store and invalid for another', () => {
  const twoStores = `version: 1
default_profile: big
stores:
  local:
    kind: pglite
    path: ./data
  search:
    kind: opensearch
    node: http://localhost:9200
collections:
  docs:
    store: local
    table: docs
    key: id
    text: body
    vector: embedding
  hits:
    store: search
    alias: hits
    key: id
    text: body
    vector: embedding
`

  it('is reported once per collection it does not suit, naming the collection and the store', async () => {
    const errors = await loadErrors(project({ 'embedding.config.yaml': twoStores, 'profiles/big.yaml': 'model: builtin:starter\ndimensions: 3072\nindex:\n  storage: vector\n' }))
    expect(errors.map((e) => e.code)).toEqual(['E_INDEX_DIMENSIONS'])
    expect(errors[0]!.message).toMatch(/collection "docs" on store "local" \(pglite\)/)
    expect(errors[0]).toMatchObject({ location: { line: 4, path: 'index.storage' } })
  })

  it('reports an OpenSearch-only rule for the OpenSearch collection alone', async () => {
    const errors = await loadErrors(project({ 'embedding.config.yaml': twoStores, 'profiles/big.yaml': 'model: builtin:starter\ndimensions: 100\nindex:\n  opensearch:\n    space_type: l2\n' }))
    expect(errors.map((e) => e.code)).toEqual(['E_INDEX_SPACE_TYPE'])
    expect(errors[0]!.message).toMatch(/collection "hits" on store "search" \(opensearch\)/)
  })

  it("checks the k-NN plugin's engine rules for the OpenSearch collection", async () => {
    const errors = await loadErrors(project({ 'embedding.config.yaml': twoStores, 'profiles/big.yaml': 'model: builtin:starter\ndimensions: 100\nindex:\n  opensearch:\n    engine: faiss\n    mode: on_disk\n    compression_level: 4x\n' }))
    expect(errors.map((e) => e.code)).toEqual(['E_KNN_RULES'])
    expect(errors[0]!.message).toMatch(/collection "hits" on store "search" \(opensearch\): engine faiss does not support compression_level 4x/)
    expect(errors[0]).toMatchObject({ location: { line: 7, path: 'index.opensearch.compression_level' } })
  })

  it('lets an OpenSearch-only configuration use more dimensions than pgvector can index', async () => {
    const config = await load(
      project({ 'embedding.config.yaml': twoStores.replace(/ {2}docs:[\s\S]*? {2}hits:/, '  hits:'), 'profiles/big.yaml': 'model: builtin:starter\ndimensions: 3072\nindex:\n  storage: vector\n' }),
    )
    expect(config.profiles.big!.dimensions).toBe(3072)
    expect(Object.keys(config.collections)).toEqual(['hits'])
  })
})
