import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { assertReachable, loadConfig, loadProfileFile, redactConfig, resolveWithSources } from '../../../src/config/index.js'
import { CONFIG_HEAD, DOCS_BODY, load, loadErrors, project } from './project.js'

const THREE_LEVELS = {
  'profiles/_base.yaml': 'normalize: false\nbatch_size: 8\nmax_tokens: 128\nindex:\n  metric: l2\n',
  'profiles/mid.yaml': 'extends: _base\nmodel: builtin:bert-tiny\ndimensions: 64\nbatch_size: 16\n',
  'profiles/small.yaml': 'extends: mid\nmodel: builtin:starter\ndimensions: 100\n',
}

describe('extends', () => {
  it('merges three levels, nearest profile winning, with the source of every value', async () => {
    const dir = project(THREE_LEVELS)
    const r = await resolveWithSources({ configPath: join(dir, 'embedding.config.yaml'), env: {}, cwd: dir })
    const small = r.config.profiles.small!
    expect(small).toMatchObject({ dimensions: 100, batchSize: 16, maxTokens: 128, normalize: false, model: { source: 'builtin:starter' } })
    expect(small.index.metric).toBe('l2')
    const source = (path: string) => r.profiles.small!.find((v) => v.path === path)?.source
    expect(source('dimensions')).toBe('file:profiles/small.yaml:3')
    expect(source('batch_size')).toBe('extends:mid')
    expect(source('max_tokens')).toBe('extends:_base')
    expect(source('pooling')).toBe('default')
    expect(r.config.profiles.mid!.batchSize).toBe(16)
    expect(Object.keys(r.config.profiles).sort()).toEqual(['mid', 'small'])
  })

  it('reports a three-profile cycle with the whole loop', async () => {
    const dir = project({
      'profiles/a.yaml': 'extends: b\n',
      'profiles/b.yaml': 'extends: c\n',
      'profiles/c.yaml': 'extends: a\n',
    })
    const cycle = (await loadErrors(dir)).find((e) => e.code === 'E_EXTENDS_CYCLE')
    expect(cycle?.message).toMatch(/a → b → c → a/)
  })

  it('fills defaults: halfvec storage above 2,000 dims, hnsw m 16 ef_construction 64', async () => {
    const dir = project({ 'profiles/small.yaml': 'model: builtin:starter\ndimensions: 3072\n' })
    const p = (await load(dir)).profiles.small!
    expect(p.index.storage).toBe('halfvec')
    expect(p.index.pgvector).toEqual({ type: 'hnsw', m: 16, efConstruction: 64 })
    expect(p).toMatchObject({ pooling: 'mean', normalize: true, device: 'auto', prefixes: { query: '', document: '' } })
  })

  it('resolves a local model directory against the profile file that names it', async () => {
    const dir = project({ 'profiles/_base.yaml': 'model: ./models/tiny\n', 'profiles/small.yaml': 'extends: _base\ndimensions: 8\n' })
    expect((await load(dir)).profiles.small!.model.source).toBe(join(dir, 'profiles', 'models', 'tiny'))
  })

  it('loads a single profile file with its parents', async () => {
    const dir = project(THREE_LEVELS)
    const p = await loadProfileFile(join(dir, 'profiles', 'small.yaml'), {})
    expect(p).toMatchObject({ name: 'small', batchSize: 16, maxTokens: 128 })
  })
})

describe('environment and flag overrides', () => {
  it('precedence is flag > env > file > extends', async () => {
    const dir = project(THREE_LEVELS)
    const opts = { configPath: join(dir, 'embedding.config.yaml'), cwd: dir }
    const batch = async (env: NodeJS.ProcessEnv, flag?: number) => {
      const r = await resolveWithSources({ ...opts, env, ...(flag ? { overrides: { batchSize: flag } } : {}) })
      return [r.config.profiles.small!.batchSize, r.profiles.small!.find((v) => v.path === 'batch_size')!.source]
    }
    expect(await batch({})).toEqual([16, 'extends:mid'])
    expect(await batch({ EMBEDDING_BATCH_SIZE: '24' })).toEqual([24, 'env:EMBEDDING_BATCH_SIZE'])
    expect(await batch({ EMBEDDING_BATCH_SIZE: '24' }, 48)).toEqual([48, 'flag:--batch-size'])
  })

  it('applies every EMBEDDING_* and reranker variable to the selected profile only', async () => {
    const dir = project({ 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' })
    const config = await load(dir, {
      env: {
        EMBEDDING_PROFILE: 'other',
        EMBEDDING_PROVIDER: 'onnx',
        EMBEDDING_MODEL: 'BAAI/bge-small-en-v1.5',
        EMBEDDING_DIMENSIONS: '384',
        EMBEDDING_DEVICE: 'cuda:1',
        EMBEDDING_BATCH_SIZE: '64',
        ENABLE_RERANKER: 'false',
        RERANK_TOP_K: '50',
        RETURN_TOP_K: '5',
        RERANK_BATCH_SIZE: '4',
      },
      overrides: { model: 'builtin:bge-small-shape' },
    })
    expect(config.defaultProfile).toBe('other')
    expect(config.profiles.other).toMatchObject({ model: { source: 'builtin:bge-small-shape' }, dimensions: 384, device: 'cuda:1', batchSize: 64 })
    expect(config.profiles.small).toMatchObject({ model: { source: 'builtin:starter' }, dimensions: 100, batchSize: 32 })
    expect(config.collections.docs!.profile).toBe('small')
  })

  it('maps reranker variables and reads Hugging Face ids as hf: sources', async () => {
    const dir = project({ 'profiles/small.yaml': 'model: builtin:starter\ndimensions: 100\nreranker:\n  model: builtin:cross-encoder-tiny\n' })
    const config = await load(dir, { env: { EMBEDDING_MODEL: 'BAAI/bge-small-en-v1.5', RERANK_TOP_K: '50', RETURN_TOP_K: '5', RERANK_BATCH_SIZE: '4', ENABLE_RERANKER: 'no' } })
    expect(config.profiles.small!.model.source).toBe('hf:BAAI/bge-small-en-v1.5')
    expect(config.profiles.small!.reranker).toMatchObject({ enabled: false, topK: 50, returnTopK: 5, batchSize: 4 })
  })

  it('drops the pinned file and sha256 when the model is overridden', async () => {
    const sha = 'a'.repeat(64)
    const dir = project({ 'profiles/small.yaml': `model:\n  source: builtin:starter\n  file: model.onnx\n  sha256: ${sha}\ndimensions: 100\n` })
    expect((await load(dir)).profiles.small!.model).toEqual({ source: 'builtin:starter', file: 'model.onnx', sha256: sha })
    expect((await load(dir, { env: { EMBEDDING_MODEL: 'builtin:bert-tiny' } })).profiles.small!.model).toEqual({ source: 'builtin:bert-tiny' })
  })

  it('interpolates ${env:VAR} with defaults and keeps numbers numeric', async () => {
    const dir = project({
      'embedding.config.yaml': 'version: 1\ndefault_profile: small\nstores:\n  pg:\n    kind: pgvector\n    url: ${env:PGURL}\n  pg2:\n    kind: pgvector\n    url: postgres://${env:PGUSER}:${env:PGPASS}@db/${env:PGDB:-app}\n  os:\n    kind: opensearch\n    node: ${env:OS_NODE:-http://localhost:9200}\n    password: ${env:OS_PASSWORD}\n',
      'profiles/small.yaml': 'model: builtin:starter\ndimensions: ${env:DIMS:-100}\n',
    })
    const config = await load(dir, { env: { PGURL: 'postgres://u:s3cret@db:5432/app', PGUSER: 'u', PGPASS: '42', OS_PASSWORD: '1234', DIMS: '64' } })
    expect(config.stores.pg2).toMatchObject({ url: 'postgres://u:42@db/app' })
    expect(config.stores.pg).toEqual({ name: 'pg', kind: 'pgvector', url: 'postgres://u:s3cret@db:5432/app' })
    expect(config.stores.os).toMatchObject({ node: 'http://localhost:9200', password: '1234' })
    expect(config.profiles.small!.dimensions).toBe(64)
  })
})

describe('redaction', () => {
  it('never shows URL passwords or password values', async () => {
    const dir = project({
      'embedding.config.yaml': 'version: 1\ndefault_profile: small\nstores:\n  pg:\n    kind: pgvector\n    url: ${env:PGURL}\n  os:\n    kind: opensearch\n    node: http://localhost:9200\n    password: ${env:OS_PASSWORD}\n',
    })
    const env = { PGURL: 'postgres://u:s3cret@db:5432/app', OS_PASSWORD: 'hunter2' }
    const opts = { configPath: join(dir, 'embedding.config.yaml'), env, cwd: dir }
    const shown = JSON.stringify(redactConfig(await loadConfig(opts))) + JSON.stringify((await resolveWithSources(opts)).settings)
    expect(shown).not.toMatch(/s3cret|hunter2/)
    expect(shown).toContain('postgres://u:****@db:5432/app')
  })
})

describe('shipped files', () => {
  it('the top-level config and seed profiles load, with the documented settings', async () => {
    const config = await loadConfig({ configPath: resolve('embedding.config.yaml'), env: {} })
    expect(Object.keys(config.profiles).sort()).toEqual(['minilm', 'mpnet', 'quality', 'speed', 'starter', 'starter-compact'])
    expect(config.stores.local).toEqual({ name: 'local', kind: 'pglite', path: resolve('.embedform/pglite') })
    expect(config.collections.docs).toMatchObject({ target: 'docs', key: 'id', vector: 'embedding', profile: 'starter', text: { columns: ['title', 'body'] } })
    const { quality, speed, minilm, mpnet, starter } = config.profiles
    expect(quality).toMatchObject({ model: { source: 'hf:Alibaba-NLP/gte-Qwen2-1.5B-instruct' }, dimensions: 1536, pooling: 'last-token', batchSize: 32, maxTokens: 8192, throughput: 40 })
    expect(quality!.prefixes.query).toBe('Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: ')
    expect(speed).toMatchObject({ dimensions: 384, pooling: 'cls', normalize: true, batchSize: 256, maxTokens: 512, reranker: { model: { source: 'hf:BAAI/bge-reranker-base' }, topK: 200, returnTopK: 20, batchSize: 32 } })
    expect(minilm).toMatchObject({ dimensions: 384, pooling: 'mean', normalize: true })
    expect(mpnet).toMatchObject({ dimensions: 768, pooling: 'mean', normalize: true })
    expect(starter).toMatchObject({ model: { source: 'builtin:starter' }, dimensions: 100, pooling: 'mean', normalize: true, maxTokens: 256, batchSize: 256, device: 'cpu' })
    expect(config.profiles['starter-compact']).toMatchObject({ model: { source: 'builtin:starter' }, dimensions: 64, maxTokens: 64, pooling: 'mean', normalize: true })
  })

  it('every shipped YAML file starts with a yaml-language-server schema line', () => {
    for (const f of ['embedding.config.yaml', 'profiles/speed.yaml', 'profiles/_base.yaml']) {
      expect(readFileSync(f, 'utf8').split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\.{1,2}\/schemas\/(config|profile)\.schema\.json$/)
    }
  })
})

describe('assertReachable', () => {
  it('allows a dimension change only through a new generation', async () => {
    const dir = project({ 'embedding.config.yaml': CONFIG_HEAD + DOCS_BODY })
    const p = (await load(dir)).profiles.small!
    expect(() => assertReachable(p, 100, 'in-place')).not.toThrow()
    expect(() => assertReachable(p, null, 'in-place')).not.toThrow()
    expect(() => assertReachable(p, 384, 'new-generation')).not.toThrow()
    let err: unknown
    try {
      assertReachable(p, 384, 'in-place', 'docs')
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'E_DIMENSIONS_CHANGE', exitCode: 2, hint: expect.stringMatching(/embedform plan/) })
  })
})

describe('reporting', () => {
  it('validate reports config and profile problems together', async () => {
    const dir = project({ 'embedding.config.yaml': 'version: 2\n', 'profiles/small.yaml': 'model: builtin:starter\ndimensions: -1\n' })
    const codes = (await loadErrors(dir)).map((e) => `${e.code}@${e.location?.path}`)
    expect(codes).toEqual(['E_SCHEMA_ENUM@version', 'E_SCHEMA_RANGE@dimensions'])
  })

  it('does not echo a mistyped password', async () => {
    const dir = project({ 'embedding.config.yaml': 'version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://h:9200\n    password: 98765\n' })
    const [err] = await loadErrors(dir)
    expect(err).toMatchObject({ code: 'E_SCHEMA_TYPE', location: { line: 6, path: 'stores.os.password' } })
    expect(err!.message).not.toContain('98765')
  })
})
