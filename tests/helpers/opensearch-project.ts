/**
 * A project directory for the CLI over an OpenSearch collection `docs` (alias `docs`), and the
 * application index the suites start from: the same profiles and mapping in every suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import type { OpenSearchDouble } from './opensearch-double/server.js'
import { passageText } from './spam-corpus.js'

const STARTER = `name: starter
model: { source: "builtin:starter" }
dimensions: 100
pooling: mean
normalize: true
max_tokens: 256
batch_size: 64
device: cpu
index:
  metric: cosine
  opensearch: { engine: faiss, m: 16, ef_construction: 64 }
`
/** The same model with a document prefix: a new fingerprint, so a second generation. */
const PASSAGE = `name: passage
extends: starter
prefixes: { document: "passage: ", query: "query: " }
`

/**
 * Writes profiles/ (starter, passage, and a suite's own `profiles` by name) once; call again to
 * switch the collection's profile.
 */
export function writeOpenSearchProject(dir: string, node: string, profile = 'starter', profiles: Record<string, string> = {}): void {
  mkdirSync(join(dir, 'profiles'), { recursive: true })
  for (const [name, yaml] of Object.entries({ starter: STARTER, passage: PASSAGE, ...profiles })) writeFileSync(join(dir, 'profiles', `${name}.yaml`), yaml)
  writeFileSync(
    join(dir, 'embedding.config.yaml'),
    `version: 1
stores:
  search:
    kind: opensearch
    node: "${node}"
collections:
  docs:
    store: search
    alias: docs
    key: id
    text: [title, body]
    vector: embedding
    updated_at: updated_at
    profile: ${profile}
`,
  )
}

/** The application's index `docs` on the double; `refreshInterval` as the application set it. */
export function createApplicationIndex(d: OpenSearchDouble, refreshInterval?: string): void {
  d.cluster.createIndex('docs', {
    settings: { index: { number_of_replicas: 0, ...(refreshInterval ? { refresh_interval: refreshInterval } : {}) } },
    mappings: { properties: { id: { type: 'long' }, title: { type: 'text' }, body: { type: 'text' }, updated_at: { type: 'date', format: 'epoch_millis' } } },
  })
}

/**
 * Documents of the index the alias `docs` points to whose vector is not a fresh encode of their
 * text with `profile` (or that have none): `id: why` each, empty when every vector is right.
 */
export async function wrongLiveDocs(d: OpenSearchDouble, dir: string, profile = 'starter'): Promise<string[]> {
  const live = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>()).keys()]
  const docs = [...d.cluster.index(live[0]!).docs.entries()]
  const cfg = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(cfg.profiles[profile]!)
  const wrong: string[] = []
  try {
    const want = await encoder.encode(
      docs.map(([, doc]) => passageText(doc.source as { title: string; body: string })),
      'document',
    )
    docs.forEach(([id, doc], j) => {
      const got = doc.source.embedding as number[] | undefined
      if (!got) return void wrong.push(`${id}: no vector`)
      const diff = Math.max(...Array.from(want[j]!, (x, k) => Math.abs(x - (got[k] ?? Number.NaN))))
      if (!(diff <= 1e-4)) wrong.push(`${id}: differs by ${diff}`)
    })
  } finally {
    await encoder.close()
  }
  return wrong
}
