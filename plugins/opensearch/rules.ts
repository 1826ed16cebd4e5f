/**
 * The rules of OpenSearch (k-NN): the store entry, `index.opensearch` in profiles, and which
 * metric/space-type/engine combinations hold (STORE-NOTES.md). Registered through
 * src/store/registry.ts like any third-party plugin.
 */
import type { IndexPlan, IndexRules, Metric, PluginProblem, ProfileView, StoreConfig, StorePlugin } from '../../src/plugin.js'
import { knnViolations, NEWEST_KNOWN } from './knn-rules.js'
import type { OpenSearchIndexSettings } from './settings.js'

/**
 * Every check of a profile against OpenSearch's k-NN rules, reported at the profile key at
 * fault: metric and space type here, engine/compression/version rules in knn-rules.ts.
 */
export function openSearchProfileProblems(p: ProfileView): PluginProblem[] {
  const problems: PluginProblem[] = []
  const metric = p.get<Metric>('index.metric')!
  const spaceType = p.get<string>('index.opensearch.space_type')
  if (spaceType !== undefined) {
    const fits = { cosine: ['cosinesimil', 'innerproduct'], l2: ['l2'], ip: ['innerproduct'] }[metric]
    if (!fits.includes(spaceType) || (spaceType === 'innerproduct' && metric === 'cosine' && p.get<boolean>('normalize') === false)) {
      problems.push({
        code: 'E_INDEX_SPACE_TYPE',
        message: `opensearch space_type ${spaceType} does not match metric ${metric}${metric === 'cosine' ? ' for unnormalized vectors' : ''}`,
        path: 'index.opensearch.space_type',
        hint: `use ${fits[0]}, or remove space_type to derive it from the metric`,
      })
    }
  }
  if (p.has('index.opensearch.compression_level') && p.get<string>('index.opensearch.mode') !== 'on_disk') {
    problems.push({ code: 'E_INDEX_OPTION', message: '`compression_level` needs `mode: on_disk`', path: 'index.opensearch.compression_level', hint: 'add mode: on_disk' })
  }
  // The k-NN plugin's own rules, as the newest release this repository knows applies them; the
  // adapter checks the same rules against the cluster's real version before it creates an index.
  const engine = p.get<OpenSearchIndexSettings['engine']>('index.opensearch.engine')!
  const derived = metric === 'l2' ? 'l2' : metric === 'ip' || p.get<boolean>('normalize') ? 'innerproduct' : 'cosinesimil'
  const mode = p.get<OpenSearchIndexSettings['mode']>('index.opensearch.mode')
  const compressionLevel = p.get<OpenSearchIndexSettings['compressionLevel']>('index.opensearch.compression_level')
  const knn = {
    engine,
    spaceType: (spaceType ?? derived) as 'cosinesimil' | 'innerproduct' | 'l2',
    ...(mode !== undefined ? { mode } : {}),
    ...(compressionLevel !== undefined ? { compressionLevel } : {}),
    m: p.get<number>('index.opensearch.m')!,
    efConstruction: p.get<number>('index.opensearch.ef_construction')!,
  }
  for (const v of knnViolations(knn, NEWEST_KNOWN)) problems.push({ code: 'E_KNN_RULES', message: v.message, path: `index.opensearch.${v.key}`, hint: v.hint })
  return problems
}

export function osIndexLabel(o: OpenSearchIndexSettings): string {
  return `hnsw/${o.engine}(m=${o.m}, ef_construction=${o.efConstruction}${o.mode ? `, mode=${o.mode}` : ''}${o.compressionLevel ? `, compression=${o.compressionLevel}` : ''})`
}

export const osIndexRules: IndexRules = {
  section: 'opensearch',
  schema: {
    type: 'object',
    additionalProperties: false,
    description: 'OpenSearch k-NN method of the knn_vector field.',
    properties: {
      engine: { type: 'string', enum: ['faiss', 'lucene'] },
      space_type: { type: 'string', enum: ['cosinesimil', 'innerproduct', 'l2'] },
      mode: { type: 'string', enum: ['in_memory', 'on_disk'] },
      compression_level: { type: 'string', enum: ['1x', '2x', '4x', '8x', '16x', '32x'] },
      m: { type: 'integer', minimum: 2, maximum: 100 },
      ef_construction: { type: 'integer', minimum: 2, maximum: 4096 },
    },
  },
  defaults: { engine: 'faiss', m: 16, ef_construction: 100 },
  parse: (s): OpenSearchIndexSettings => ({
    engine: s.engine as OpenSearchIndexSettings['engine'],
    m: s.m as number,
    efConstruction: s.ef_construction as number,
    ...(s.space_type !== undefined ? { spaceType: s.space_type as OpenSearchIndexSettings['spaceType'] } : {}),
    ...(s.mode !== undefined ? { mode: s.mode as OpenSearchIndexSettings['mode'] } : {}),
    ...(s.compression_level !== undefined ? { compressionLevel: s.compression_level as OpenSearchIndexSettings['compressionLevel'] } : {}),
  }),
  validate: openSearchProfileProblems,
  /**
   * Always a step: the k-NN graph is built as documents are indexed, and this step is where the
   * bulk-load settings (refresh_interval -1, 0 replicas) are restored and the index refreshed.
   */
  plan: (settings): IndexPlan => ({
    build: true,
    label: osIndexLabel(settings.opensearch as OpenSearchIndexSettings),
    basis: 'graph built while indexing; restores refresh_interval and replicas, then refreshes',
  }),
}

export const opensearchPlugin: StorePlugin = {
  kind: 'opensearch',
  description: 'OpenSearch k-NN: a versioned index per generation behind the alias the application searches',
  storeSchema: {
    required: ['node'],
    properties: {
      node: { type: 'string', minLength: 1, description: 'http(s):// node URL.' },
      username: { type: 'string' },
      password: { type: 'string', description: 'Must come from ${env:VAR}.' },
      insecure: { type: 'boolean', description: 'Skip TLS verification (self-signed dev clusters).' },
    },
  },
  parseStore(e): StoreConfig | PluginProblem[] {
    const v = e.values
    const node = v.node as string
    if (!/^https?:\/\/[^\s/]+/.test(node)) return [{ code: 'E_STORE_URL', message: 'opensearch node must be an http:// or https:// URL', path: 'node', hint: 'e.g. node: ${env:OPENSEARCH_URL:-http://localhost:9200}' }]
    const password = v.password as string | undefined
    // DESIGN.md: secrets come from the environment, never from the YAML.
    if (password !== undefined && password !== '' && !e.fromEnv('password')) {
      return [{ code: 'E_SECRET_LITERAL', message: 'a password must not be written in the config file', path: 'password', hint: 'use password: ${env:OPENSEARCH_PASSWORD}' }]
    }
    const username = v.username as string | undefined
    return {
      name: e.name,
      kind: 'opensearch',
      node,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(v.insecure !== undefined ? { insecure: v.insecure as boolean } : {}),
    }
  },
  collection: { target: 'alias' },
  index: osIndexRules,
  scaffold: {
    store: `  search:
    kind: opensearch
    node: \${env:OPENSEARCH_URL:-http://localhost:9200}
    username: \${env:OPENSEARCH_USERNAME:-admin}
    password: \${env:OPENSEARCH_PASSWORD:-}`,
    collection: `  docs:
    store: search
    # The alias your application searches; embedform points it at the live generation.
    alias: docs
    key: id
    text: {template: "{title}\\n{body}"}
    vector: embedding
    updated_at: updated_at
    profile: starter`,
  },
  create: async (store, ctx) => (await import('./index.js')).plugin.create(store, ctx),
}

export const plugins = [opensearchPlugin]
