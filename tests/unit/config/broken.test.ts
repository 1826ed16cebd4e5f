import { describe, expect, it } from 'vitest'
import { basename } from 'node:path'
import { CONFIG_HEAD, DOCS_BODY, loadErrors, project } from './project.js'

interface Case {
  name: string
  files: Record<string, string | null>
  env?: NodeJS.ProcessEnv
  code: string
  /** File (base name) and line of the error; null when the problem is an environment variable. */
  file: string | null
  line: number | null
  path: string
  hint?: RegExp
}

const docs = (body: string) => ({ 'embedding.config.yaml': CONFIG_HEAD + body })
const cfg = (text: string) => ({ 'embedding.config.yaml': text })
const small = (text: string) => ({ 'profiles/small.yaml': text })
const SMALL_HEAD = 'extends: _base\nmodel: builtin:starter\ndimensions: 100\n'
/** The base project with its collection on an OpenSearch store instead, and `small` as given. */
const onOpenSearch = (smallText: string) => ({
  ...cfg('version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://h:9200\ncollections:\n  docs:\n    store: os\n    alias: docs\n    key: id\n    text: body\n    vector: embedding\n    profile: small\n'),
  ...small(smallText),
})

const cases: Case[] = [
  // --- embedding.config.yaml: YAML and structure
  { name: 'YAML syntax error', files: cfg('version: 1\nstores:\n  local: [kind: pglite\n'), code: 'E_YAML_SYNTAX', file: 'embedding.config.yaml', line: 4, path: '' },
  { name: 'duplicate key', files: cfg('version: 1\nversion: 1\n'), code: 'E_YAML_DUPLICATE_KEY', file: 'embedding.config.yaml', line: 2, path: '' },
  { name: 'typo in a top-level key', files: cfg('version: 1\ncolections: {}\n'), code: 'E_SCHEMA_UNKNOWN_KEY', file: 'embedding.config.yaml', line: 2, path: 'colections', hint: /`collections`/ },
  { name: 'wrong version', files: cfg('version: 2\n'), code: 'E_SCHEMA_ENUM', file: 'embedding.config.yaml', line: 1, path: 'version' },
  { name: 'missing version', files: cfg('stores: {}\n'), code: 'E_SCHEMA_REQUIRED', file: 'embedding.config.yaml', line: 1, path: 'version' },
  { name: 'unknown store kind', files: cfg('version: 1\nstores:\n  local:\n    kind: pglit\n    path: x\n'), code: 'E_SCHEMA_ENUM', file: 'embedding.config.yaml', line: 4, path: 'stores.local.kind', hint: /`pglite`/ },
  { name: 'pgvector store without url', files: cfg('version: 1\nstores:\n  pg:\n    kind: pgvector\n'), code: 'E_SCHEMA_REQUIRED', file: 'embedding.config.yaml', line: 3, path: 'stores.pg.url' },
  { name: 'key of another store kind', files: cfg('version: 1\nstores:\n  pg:\n    kind: pgvector\n    url: postgres://h/db\n    node: http://x\n'), code: 'E_SCHEMA_UNKNOWN_KEY', file: 'embedding.config.yaml', line: 6, path: 'stores.pg.node' },
  { name: 'pgvector url that is not postgres://', files: cfg('version: 1\nstores:\n  pg:\n    kind: pgvector\n    url: mysql://h/db\n'), code: 'E_STORE_URL', file: 'embedding.config.yaml', line: 5, path: 'stores.pg.url' },
  { name: 'opensearch node that is not a URL', files: cfg('version: 1\nstores:\n  os:\n    kind: opensearch\n    node: localhost:9200\n'), code: 'E_STORE_URL', file: 'embedding.config.yaml', line: 5, path: 'stores.os.node' },
  { name: 'literal password', files: cfg('version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://localhost:9200\n    password: hunter2\n'), code: 'E_SECRET_LITERAL', file: 'embedding.config.yaml', line: 6, path: 'stores.os.password' },
  { name: 'store name with a space', files: cfg('version: 1\nstores:\n  "my store":\n    kind: pglite\n    path: x\n'), code: 'E_SCHEMA_NAME', file: 'embedding.config.yaml', line: 3, path: 'stores.my store' },
  { name: 'insecure that is not a boolean', files: cfg('version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://h:9200\n    insecure: maybe\n'), code: 'E_SCHEMA_TYPE', file: 'embedding.config.yaml', line: 6, path: 'stores.os.insecure' },
  // --- collections
  { name: 'typo in a collection key', files: docs(DOCS_BODY.replace('vector:', 'vectr:')), code: 'E_SCHEMA_UNKNOWN_KEY', file: 'embedding.config.yaml', line: 13, path: 'collections.docs.vectr', hint: /`vector`/ },
  { name: 'collection without key', files: docs(DOCS_BODY.replace('    key: id\n', '')), code: 'E_SCHEMA_REQUIRED', file: 'embedding.config.yaml', line: 8, path: 'collections.docs.key' },
  { name: 'collection naming an undeclared store', files: docs(DOCS_BODY.replace('store: local', 'store: locl')), code: 'E_REF_STORE', file: 'embedding.config.yaml', line: 9, path: 'collections.docs.store', hint: /`local`/ },
  { name: 'table with a semicolon', files: docs(DOCS_BODY.replace('table: docs', 'table: "docs; DROP TABLE x"')), code: 'E_IDENTIFIER', file: 'embedding.config.yaml', line: 10, path: 'collections.docs.table' },
  { name: 'vector column with a quote', files: docs(DOCS_BODY.replace('vector: embedding', `vector: 'emb"x'`)), code: 'E_IDENTIFIER', file: 'embedding.config.yaml', line: 13, path: 'collections.docs.vector' },
  { name: 'text column with a space', files: docs(DOCS_BODY.replace('[title, body]', '[title, "body text"]')), code: 'E_IDENTIFIER', file: 'embedding.config.yaml', line: 12, path: 'collections.docs.text.1' },
  { name: 'empty text list', files: docs(DOCS_BODY.replace('[title, body]', '[]')), code: 'E_SCHEMA_RANGE', file: 'embedding.config.yaml', line: 12, path: 'collections.docs.text' },
  { name: 'both table and alias', files: docs(DOCS_BODY.replace('    key: id\n', '    key: id\n    alias: docs\n')), code: 'E_COLLECTION_TARGET', file: 'embedding.config.yaml', line: 12, path: 'collections.docs.alias' },
  { name: 'neither table nor alias', files: docs(DOCS_BODY.replace('    table: docs\n', '')), code: 'E_COLLECTION_TARGET', file: 'embedding.config.yaml', line: 8, path: 'collections.docs.table' },
  { name: 'alias on a PostgreSQL store', files: docs(DOCS_BODY.replace('table: docs', 'alias: docs')), code: 'E_COLLECTION_TARGET', file: 'embedding.config.yaml', line: 10, path: 'collections.docs.alias' },
  {
    name: 'uppercase OpenSearch alias',
    files: cfg('version: 1\nstores:\n  os:\n    kind: opensearch\n    node: http://h:9200\ncollections:\n  docs:\n    store: os\n    alias: Docs\n    key: id\n    text: body\n    vector: embedding\n    profile: small\n'),
    code: 'E_IDENTIFIER', file: 'embedding.config.yaml', line: 9, path: 'collections.docs.alias',
  },
  { name: 'template without fields', files: docs(DOCS_BODY.replace('[title, body]', '{template: "no fields"}')), code: 'E_TEXT_TEMPLATE', file: 'embedding.config.yaml', line: 12, path: 'collections.docs.text.template' },
  { name: 'template with an unbalanced brace', files: docs(DOCS_BODY.replace('[title, body]', '{template: "{title} {body"}')), code: 'E_TEXT_TEMPLATE', file: 'embedding.config.yaml', line: 12, path: 'collections.docs.text.template' },
  { name: 'separator with a template', files: docs(DOCS_BODY.replace('[title, body]', '{template: "{title}"}\n    separator: " "')), code: 'E_TEXT_SOURCE', file: 'embedding.config.yaml', line: 13, path: 'collections.docs.separator' },
  { name: 'key and vector are the same column', files: docs(DOCS_BODY.replace('vector: embedding', 'vector: id')), code: 'E_COLUMN_CONFLICT', file: 'embedding.config.yaml', line: 13, path: 'collections.docs.vector' },
  { name: 'vector column with the reserved generation suffix', files: docs(DOCS_BODY.replace('vector: embedding', 'vector: embedding__g2')), code: 'E_IDENTIFIER', file: 'embedding.config.yaml', line: 13, path: 'collections.docs.vector' },
  { name: 'two collections writing one column', files: docs(DOCS_BODY + '  copy:\n' + DOCS_BODY), code: 'E_COLLECTION_DUPLICATE', file: 'embedding.config.yaml', line: 15, path: 'collections.copy' },
  { name: 'unknown profile in a collection', files: docs(DOCS_BODY.replace('profile: small', 'profile: smal')), code: 'E_REF_PROFILE', file: 'embedding.config.yaml', line: 14, path: 'collections.docs.profile', hint: /`small`/ },
  { name: 'abstract profile in a collection', files: docs(DOCS_BODY.replace('profile: small', 'profile: _base')), code: 'E_PROFILE_ABSTRACT', file: 'embedding.config.yaml', line: 14, path: 'collections.docs.profile' },
  { name: 'unknown default_profile', files: cfg((CONFIG_HEAD + DOCS_BODY).replace('default_profile: small', 'default_profile: large')), code: 'E_REF_PROFILE', file: 'embedding.config.yaml', line: 2, path: 'default_profile' },
  { name: 'collection without profile and no default', files: cfg((CONFIG_HEAD + DOCS_BODY).replace('default_profile: small\n', '').replace('    profile: small\n', '')), code: 'E_COLLECTION_PROFILE', file: 'embedding.config.yaml', line: 7, path: 'collections.docs.profile' },
  // An unset variable in a store's settings waits until the store is opened (unresolved-store.test.ts); elsewhere it is an error at once.
  { name: 'missing environment variable', files: cfg('version: 1\ndefault_profile: ${env:EMBEDFORM_TEST_UNSET_PROFILE}\n'), code: 'E_ENV_MISSING', file: 'embedding.config.yaml', line: 2, path: 'default_profile' },
  { name: 'malformed env reference', files: cfg('version: 1\nstores:\n  pg:\n    kind: pgvector\n    url: ${DATABASE_URL}\n'), code: 'E_ENV_SYNTAX', file: 'embedding.config.yaml', line: 5, path: 'stores.pg.url' },
  { name: 'missing profiles directory', files: cfg('version: 1\nprofiles_dir: ./nowhere\n'), code: 'E_PROFILES_DIR', file: 'embedding.config.yaml', line: 2, path: 'profiles_dir' },
  // --- profiles
  { name: 'profile YAML syntax error', files: small('extends: _base\nmodel: [builtin:starter\n'), code: 'E_YAML_SYNTAX', file: 'small.yaml', line: 3, path: '' },
  { name: 'typo in a profile key', files: small('extends: _base\nmodel: builtin:starter\ndimension: 100\n'), code: 'E_SCHEMA_UNKNOWN_KEY', file: 'small.yaml', line: 3, path: 'dimension', hint: /`dimensions`/ },
  { name: 'unknown pooling', files: small(SMALL_HEAD + 'pooling: meen\n'), code: 'E_SCHEMA_ENUM', file: 'small.yaml', line: 4, path: 'pooling', hint: /`mean`/ },
  { name: 'zero dimensions', files: small('extends: _base\nmodel: builtin:starter\ndimensions: 0\n'), code: 'E_SCHEMA_RANGE', file: 'small.yaml', line: 3, path: 'dimensions' },
  { name: 'dimensions that are not a number', files: small('extends: _base\nmodel: builtin:starter\ndimensions: big\n'), code: 'E_SCHEMA_TYPE', file: 'small.yaml', line: 3, path: 'dimensions' },
  { name: 'unknown device', files: small(SMALL_HEAD + 'device: tpu\n'), code: 'E_SCHEMA_FORMAT', file: 'small.yaml', line: 4, path: 'device' },
  { name: 'bad sha256', files: small('extends: _base\nmodel:\n  source: builtin:starter\n  sha256: abc\ndimensions: 100\n'), code: 'E_SCHEMA_FORMAT', file: 'small.yaml', line: 4, path: 'model.sha256' },
  { name: 'profile without a model', files: small('extends: _base\ndimensions: 100\n'), code: 'E_PROFILE_REQUIRED', file: 'small.yaml', line: 1, path: 'model.source' },
  { name: 'extends of a missing profile', files: small('extends: _bse\nmodel: builtin:starter\ndimensions: 100\n'), code: 'E_EXTENDS_MISSING', file: 'small.yaml', line: 1, path: 'extends', hint: /`_base`/ },
  { name: 'extends cycle', files: { ...small('extends: other\nmodel: builtin:starter\ndimensions: 100\n'), 'profiles/other.yaml': 'extends: small\n' }, code: 'E_EXTENDS_CYCLE', file: 'small.yaml', line: 1, path: 'extends' },
  { name: 'profile extending itself', files: small('extends: small\nmodel: builtin:starter\ndimensions: 100\n'), code: 'E_EXTENDS_CYCLE', file: 'small.yaml', line: 1, path: 'extends' },
  { name: 'name that differs from the file name', files: small('name: tiny\n' + SMALL_HEAD), code: 'E_PROFILE_NAME', file: 'small.yaml', line: 1, path: 'name' },
  { name: 'malformed hf source', files: small('extends: _base\nmodel: hf:justaname\ndimensions: 100\n'), code: 'E_MODEL_SOURCE', file: 'small.yaml', line: 2, path: 'model.source' },
  { name: 'unknown builtin model', files: small('extends: _base\nmodel: builtin:startr\ndimensions: 100\n'), code: 'E_MODEL_BUILTIN', file: 'small.yaml', line: 2, path: 'model.source', hint: /builtin:starter/ },
  { name: 'unknown model source scheme', files: small('extends: _base\nmodel: s3://bucket/model\ndimensions: 100\n'), code: 'E_MODEL_SOURCE', file: 'small.yaml', line: 2, path: 'model.source' },
  { name: 'vector storage over 2000 dims with an index', files: small('extends: _base\nmodel: builtin:starter\ndimensions: 3072\nindex:\n  storage: vector\n'), code: 'E_INDEX_DIMENSIONS', file: 'small.yaml', line: 5, path: 'index.storage', hint: /halfvec/ },
  { name: 'halfvec over 4000 dims with an index', files: small('extends: _base\nmodel: builtin:starter\ndimensions: 5000\n'), code: 'E_INDEX_DIMENSIONS', file: 'small.yaml', line: 3, path: 'dimensions' },
  { name: 'ivfflat lists below 1', files: small(SMALL_HEAD + 'index:\n  pgvector:\n    type: ivfflat\n    lists: 0\n'), code: 'E_SCHEMA_RANGE', file: 'small.yaml', line: 7, path: 'index.pgvector.lists' },
  { name: 'lists on an hnsw index', files: small(SMALL_HEAD + 'index:\n  pgvector:\n    lists: 100\n'), code: 'E_INDEX_OPTION', file: 'small.yaml', line: 6, path: 'index.pgvector.lists' },
  { name: 'OpenSearch space type against the metric', files: onOpenSearch(SMALL_HEAD + 'index:\n  opensearch:\n    space_type: l2\n'), code: 'E_INDEX_SPACE_TYPE', file: 'small.yaml', line: 6, path: 'index.opensearch.space_type' },
  { name: 'compression without on_disk mode', files: onOpenSearch(SMALL_HEAD + 'index:\n  opensearch:\n    compression_level: 8x\n'), code: 'E_INDEX_OPTION', file: 'small.yaml', line: 6, path: 'index.opensearch.compression_level' },
  { name: 'return_top_k larger than top_k', files: small(SMALL_HEAD + 'reranker:\n  model: builtin:cross-encoder-tiny\n  top_k: 10\n  return_top_k: 20\n'), code: 'E_RERANK_TOP_K', file: 'small.yaml', line: 7, path: 'reranker.return_top_k' },
  { name: 'reranker without a model', files: small(SMALL_HEAD + 'reranker:\n  top_k: 10\n'), code: 'E_PROFILE_REQUIRED', file: 'small.yaml', line: 1, path: 'reranker.model.source' },
  { name: 'unknown gate metric', files: small(SMALL_HEAD + 'gate:\n  metric: precision\n  queries: q.jsonl\n'), code: 'E_SCHEMA_FORMAT', file: 'small.yaml', line: 5, path: 'gate.metric' },
  { name: 'gate without queries', files: small(SMALL_HEAD + 'gate:\n  metric: ndcg@10\n'), code: 'E_SCHEMA_REQUIRED', file: 'small.yaml', line: 4, path: 'gate.queries' },
  // --- environment overrides
  { name: 'unsupported EMBEDDING_PROVIDER', files: {}, env: { EMBEDDING_PROVIDER: 'openai' }, code: 'E_ENV_VALUE', file: null, line: null, path: '' },
  { name: 'EMBEDDING_DIMENSIONS that is not a number', files: {}, env: { EMBEDDING_DIMENSIONS: 'abc' }, code: 'E_OVERRIDE_VALUE', file: null, line: null, path: 'dimensions' },
  { name: 'EMBEDDING_DEVICE that does not exist', files: {}, env: { EMBEDDING_DEVICE: 'tpu' }, code: 'E_OVERRIDE_VALUE', file: null, line: null, path: 'device' },
  { name: 'EMBEDDING_PROFILE naming no profile', files: {}, env: { EMBEDDING_PROFILE: 'huge' }, code: 'E_REF_PROFILE', file: null, line: null, path: 'default_profile' },
  {
    name: 'EMBEDDING_* with no profile to apply to',
    files: { ...cfg((CONFIG_HEAD + DOCS_BODY + '  notes:\n' + DOCS_BODY.replace('table: docs', 'table: notes').replace('profile: small', 'profile: other')).replace('default_profile: small\n', '')), 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' },
    env: { EMBEDDING_BATCH_SIZE: '8' },
    code: 'E_OVERRIDE_TARGET', file: null, line: null, path: '',
  },
  { name: 'EMBEDDING_DIMENSIONS beyond what the index can hold', files: small(SMALL_HEAD + 'index:\n  storage: vector\n'), env: { EMBEDDING_DIMENSIONS: '2048' }, code: 'E_INDEX_DIMENSIONS', file: 'small.yaml', line: 5, path: 'index.storage' },
]

describe('validate rejects broken config and profiles', () => {
  it('covers at least 30 distinct kinds', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    expect(cases.length).toBeGreaterThanOrEqual(30)
  })

  it.each(cases)('$name → $code', async (c) => {
    const dir = project(c.files)
    const errors = await loadErrors(dir, { env: c.env ?? {} })
    const err = errors.find((e) => e.code === c.code)
    expect(err, `got ${errors.map((e) => `${e.code} ${e.location?.path} ${e.message}`).join('; ')}`).toBeDefined()
    expect(err!.exitCode).toBe(2)
    expect(err!.location?.path ?? '').toBe(c.path)
    if (c.file === null) {
      expect(err!.location?.line).toBeUndefined()
      expect(err!.location?.object ?? err!.message).toMatch(/EMBEDDING_/)
    } else {
      expect(basename(err!.location?.file ?? '')).toBe(c.file)
      expect(err!.location?.line).toBe(c.line)
      expect(err!.location?.column).toBeGreaterThanOrEqual(1)
    }
    if (c.hint) expect(err!.hint).toMatch(c.hint)
  })
})
