/**
 * A project directory for the CLI over an OpenSearch collection `docs` (alias `docs`), and the
 * application index the suites start from: the same profiles and mapping in every suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { OpenSearchDouble } from './opensearch-double/server.js'

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

/** Writes profiles/ (starter, passage) once; call again to switch the collection's profile. */
export function writeOpenSearchProject(dir: string, node: string, profile = 'starter'): void {
  mkdirSync(join(dir, 'profiles'), { recursive: true })
  writeFileSync(join(dir, 'profiles', 'starter.yaml'), STARTER)
  writeFileSync(join(dir, 'profiles', 'passage.yaml'), PASSAGE)
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
