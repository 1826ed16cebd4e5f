/**
 * The rules of PostgreSQL + pgvector (and PGlite, which embeds the same engine): the store
 * entries, `index.pgvector` in profiles, dimension limits and index-build estimates. Facts from
 * STORE-NOTES.md. Registered through src/store/registry.ts like any third-party plugin.
 */
import { isAbsolute, resolve } from 'node:path'
import type { IndexPlan, IndexRules, PluginProblem, ProfileView, StoreConfig, StorePlugin, VectorStorage } from '../../src/plugin.js'
import type { PgIndexSettings } from './settings.js'

/** pgvector can index `vector` up to 2,000 dims and `halfvec` up to 4,000. */
export const MAX_INDEXED_DIMS: Record<VectorStorage, number> = { vector: 2000, halfvec: 4000 }

/**
 * Single-core build rates: HNSW inserts a few thousand rows/s per core at m=16, ef_construction=64
 * (scaling roughly with ef_construction); IVFFlat is a k-means pass plus one assignment per row.
 * One core, because PGlite has no parallel workers and a shared server may not grant them.
 */
export const HNSW_ROWS_PER_SECOND_AT_EF64 = 2000
export const IVFFLAT_ROWS_PER_SECOND = 20000

export function pgIndex(settings: { pgvector: PgIndexSettings }): PgIndexSettings {
  return settings.pgvector
}

export function indexBuildSeconds(rows: number, index: PgIndexSettings): number | undefined {
  if (index.type === 'none') return undefined
  if (index.type === 'ivfflat') return rows / IVFFLAT_ROWS_PER_SECOND
  return rows / (HNSW_ROWS_PER_SECOND_AT_EF64 * (64 / Math.max(index.efConstruction, 1)))
}

export function indexLabel(index: PgIndexSettings): string {
  if (index.type === 'hnsw') return `hnsw(m=${index.m}, ef_construction=${index.efConstruction})`
  if (index.type === 'ivfflat') return `ivfflat(lists=${index.lists ?? 'auto'})`
  return 'none'
}

function indexBasis(index: PgIndexSettings): string {
  if (index.type === 'ivfflat') return `ivfflat ~${IVFFLAT_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s on one core`
  return `hnsw ~${HNSW_ROWS_PER_SECOND_AT_EF64.toLocaleString('en-US')} rows/s on one core at ef_construction=64`
}

function validate(p: ProfileView): PluginProblem[] {
  const problems: PluginProblem[] = []
  const dims = p.get<number>('dimensions')!
  const storage = p.get<VectorStorage>('index.storage')!
  const type = p.get<string>('index.pgvector.type')
  if (type !== 'none' && dims > MAX_INDEXED_DIMS[storage]) {
    problems.push({
      code: 'E_INDEX_DIMENSIONS',
      message: `pgvector cannot index ${dims}-d ${storage} columns (at most ${MAX_INDEXED_DIMS[storage]})`,
      path: p.isDefault('index.storage') ? 'dimensions' : 'index.storage',
      hint: storage === 'vector' && dims <= MAX_INDEXED_DIMS.halfvec ? 'set index.storage: halfvec' : 'lower dimensions (Matryoshka) or set index.pgvector.type: none',
    })
  }
  if (type !== 'ivfflat' && p.has('index.pgvector.lists')) {
    problems.push({ code: 'E_INDEX_OPTION', message: '`lists` only applies to ivfflat indexes', path: 'index.pgvector.lists', hint: 'set index.pgvector.type: ivfflat or remove lists' })
  }
  return problems
}

export const pgIndexRules: IndexRules = {
  section: 'pgvector',
  schema: {
    type: 'object',
    additionalProperties: false,
    description: 'pgvector index (PostgreSQL and PGlite stores).',
    properties: {
      type: { type: 'string', enum: ['hnsw', 'ivfflat', 'none'] },
      m: { type: 'integer', minimum: 2, maximum: 100 },
      ef_construction: { type: 'integer', minimum: 4, maximum: 1000 },
      lists: { type: 'integer', minimum: 1, maximum: 32768 },
    },
  },
  defaults: { type: 'hnsw', m: 16, ef_construction: 64 },
  defaultStorage: (dimensions) => (dimensions > MAX_INDEXED_DIMS.vector ? 'halfvec' : 'vector'),
  parse: (s): PgIndexSettings => ({
    type: s.type as PgIndexSettings['type'],
    m: s.m as number,
    efConstruction: s.ef_construction as number,
    ...(s.lists !== undefined ? { lists: s.lists as number } : {}),
  }),
  validate,
  plan(settings, rows): IndexPlan {
    const ix = pgIndex(settings as { pgvector: PgIndexSettings })
    const seconds = indexBuildSeconds(rows, ix)
    return { build: ix.type !== 'none', label: indexLabel(ix), ...(seconds === undefined ? {} : { seconds }), basis: indexBasis(ix) }
  },
}

const collection = {
  target: 'table' as const,
  canonicalTarget: (t: string) => (t.includes('.') ? t : `public.${t}`),
}

function pgliteDataDir(path: string, baseDir: string): string {
  return path.startsWith('memory://') || isAbsolute(path) ? path : resolve(baseDir, path)
}

export const pglitePlugin: StorePlugin = {
  kind: 'pglite',
  description: 'PGlite: embedded PostgreSQL + pgvector in a data directory, nothing to install or run',
  storeSchema: {
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1, description: 'Data directory (relative to this file), or memory://.' } },
  },
  parseStore: (e): StoreConfig => ({ name: e.name, kind: 'pglite', path: pgliteDataDir(e.values.path as string, e.baseDir) }),
  collection,
  index: pgIndexRules,
  scaffold: {
    store: `  local:
    # Embedded PostgreSQL (PGlite) on disk: nothing to install or run.
    kind: pglite
    path: ./.embedform/pglite`,
    collection: `  docs:
    store: local
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: starter`,
  },
  create: async (store, ctx) => (await import('./index.js')).plugin.create(store, ctx),
}

export const pgvectorPlugin: StorePlugin = {
  kind: 'pgvector',
  description: 'PostgreSQL + pgvector over a postgres:// URL',
  storeSchema: {
    required: ['url'],
    properties: { url: { type: 'string', minLength: 1, description: 'postgres:// URL; put the password in ${env:VAR}.' } },
  },
  parseStore(e): StoreConfig | PluginProblem[] {
    const url = e.values.url as string
    if (!/^postgres(ql)?:\/\//.test(url)) return [{ code: 'E_STORE_URL', message: 'pgvector url must start with postgres:// or postgresql://', path: 'url', hint: 'e.g. url: ${env:DATABASE_URL}' }]
    return { name: e.name, kind: 'pgvector', url }
  },
  collection,
  index: pgIndexRules,
  scaffold: {
    store: `  main:
    kind: pgvector
    # e.g. postgres://user:password@localhost:5432/app — keep the password in the environment.
    url: \${env:DATABASE_URL}`,
    collection: `  docs:
    store: main
    table: public.docs
    key: id
    # One column, a list joined by \`separator\`, or a template: {template: "{title}\\n{body}"}
    text: [title, body]
    vector: embedding
    profile: starter`,
  },
  create: async (store, ctx) => (await import('./index.js')).plugin.create(store, ctx),
}

export const plugins = [pglitePlugin, pgvectorPlugin]
