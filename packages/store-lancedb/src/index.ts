/**
 * @embedform/store-lancedb: LanceDB as an embedform store. Load it with
 * `plugins: ['@embedform/store-lancedb']` in embedding.config.yaml, then declare
 * `stores: { lance: { kind: lancedb, path: ./data/lance } }` and collections with `table:`.
 */
import { isAbsolute, resolve } from 'node:path'
import type { IndexPlan, PluginProblem, ProfileView, StoreConfig, StorePlugin } from 'embedform/plugin'
import { DEFAULT_INDEX, lanceIndex, type LanceIndexSettings } from './settings.js'

export type { LanceIndexSettings } from './settings.js'

export interface LanceDbStore extends StoreConfig {
  kind: 'lancedb'
  /** Absolute path of the database directory. */
  path: string
}

/** Rough single-core rates, for the plan only: IVF k-means plus per-row assignment; HNSW inserts. */
const ROWS_PER_SECOND: Record<Exclude<LanceIndexSettings['type'], 'none'>, number> = { ivf_flat: 50_000, ivf_pq: 20_000, ivf_hnsw_sq: 5_000 }

function label(ix: LanceIndexSettings): string {
  if (ix.type === 'ivf_hnsw_sq') return `ivf_hnsw_sq(m=${ix.m}, ef_construction=${ix.efConstruction}${ix.partitions ? `, partitions=${ix.partitions}` : ''})`
  if (ix.type === 'ivf_pq') return `ivf_pq(${ix.partitions ? `partitions=${ix.partitions}, ` : ''}sub_vectors=${ix.subVectors ?? 'auto'})`
  return ix.type === 'ivf_flat' ? `ivf_flat(partitions=${ix.partitions ?? 'auto'})` : 'none'
}

/** Profile checks against what this plugin can store and index. */
export function lanceProfileProblems(p: ProfileView): PluginProblem[] {
  const problems: PluginProblem[] = []
  if (p.get('index.storage') !== 'vector') {
    problems.push({ code: 'E_INDEX_STORAGE', message: 'the LanceDB plugin stores float32 vectors only', path: 'index.storage', hint: 'set index.storage: vector' })
  }
  const dims = p.get<number>('dimensions')!
  const subVectors = p.get<number>('index.lancedb.sub_vectors')
  if (subVectors !== undefined && dims % subVectors !== 0) {
    problems.push({ code: 'E_INDEX_OPTION', message: `sub_vectors ${subVectors} does not divide ${dims} dimensions`, path: 'index.lancedb.sub_vectors', hint: 'pick a divisor of the dimensions, e.g. dimensions / 8' })
  }
  if (subVectors !== undefined && p.get('index.lancedb.type') !== 'ivf_pq') {
    problems.push({ code: 'E_INDEX_OPTION', message: '`sub_vectors` only applies to ivf_pq indexes', path: 'index.lancedb.sub_vectors', hint: 'set index.lancedb.type: ivf_pq or remove sub_vectors' })
  }
  return problems
}

export const plugin: StorePlugin = {
  kind: 'lancedb',
  description: 'LanceDB: a local database directory; one vector column per generation, switched by an atomic column rename',
  storeSchema: {
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1, description: 'Database directory, relative to embedding.config.yaml.' } },
  },
  parseStore(e): StoreConfig | PluginProblem[] {
    const path = e.values.path as string
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return [{ code: 'E_STORE_PATH', message: 'the LanceDB plugin opens local database directories only', path: 'path', hint: 'e.g. path: ./data/lance' }]
    return { name: e.name, kind: 'lancedb', path: isAbsolute(path) ? path : resolve(e.baseDir, path) }
  },
  collection: { target: 'table' },
  index: {
    section: 'lancedb',
    schema: {
      type: 'object',
      additionalProperties: false,
      description: 'LanceDB vector index of each generation.',
      properties: {
        type: { type: 'string', enum: ['ivf_hnsw_sq', 'ivf_flat', 'ivf_pq', 'none'] },
        partitions: { type: 'integer', minimum: 1, maximum: 65536 },
        m: { type: 'integer', minimum: 4, maximum: 256 },
        ef_construction: { type: 'integer', minimum: 10, maximum: 2000 },
        sub_vectors: { type: 'integer', minimum: 1, maximum: 4096 },
      },
    },
    defaults: { type: DEFAULT_INDEX.type, m: DEFAULT_INDEX.m, ef_construction: DEFAULT_INDEX.efConstruction },
    parse: (s): LanceIndexSettings => ({
      type: s.type as LanceIndexSettings['type'],
      m: s.m as number,
      efConstruction: s.ef_construction as number,
      ...(s.partitions !== undefined ? { partitions: s.partitions as number } : {}),
      ...(s.sub_vectors !== undefined ? { subVectors: s.sub_vectors as number } : {}),
    }),
    validate: lanceProfileProblems,
    plan(settings, rows): IndexPlan {
      const ix = lanceIndex(settings)
      if (ix.type === 'none') return { build: false, label: 'none' }
      return { build: true, label: label(ix), seconds: rows / ROWS_PER_SECOND[ix.type], basis: `${ix.type} ~${ROWS_PER_SECOND[ix.type].toLocaleString('en-US')} rows/s on one core` }
    },
  },
  scaffold: {
    store: `  lance:
    kind: lancedb
    path: ./.embedform/lancedb`,
    collection: `  docs:
    store: lance
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: starter`,
  },
  async create(store) {
    const { connect } = await import('@lancedb/lancedb')
    const { LanceDbAdapter } = await import('./adapter.js')
    const path = (store as LanceDbStore).path
    // 0: every read checks for versions committed by other processes (the application's writes).
    return new LanceDbAdapter(await connect(path, { readConsistencyInterval: 0 }), path)
  },
}
