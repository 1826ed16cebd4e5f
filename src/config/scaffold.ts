import { copyFile, mkdir, readFile, readdir, writeFile, access } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { inputError } from '../core/errors.js'
import type { StoreKind } from '../core/types.js'
import { packageRoot } from './schema.js'

export interface ScaffoldResult {
  written: string[]
}

/** Store sections for each kind; URLs and secrets come from the environment, never the file. */
const STORE_BLOCK: Record<StoreKind, string> = {
  pglite: `  local:
    # Embedded PostgreSQL (PGlite) on disk: nothing to install or run.
    kind: pglite
    path: ./.embedform/pglite`,
  pgvector: `  main:
    kind: pgvector
    # e.g. postgres://user:password@localhost:5432/app — keep the password in the environment.
    url: \${env:DATABASE_URL}`,
  opensearch: `  search:
    kind: opensearch
    node: \${env:OPENSEARCH_URL:-http://localhost:9200}
    username: \${env:OPENSEARCH_USERNAME:-admin}
    password: \${env:OPENSEARCH_PASSWORD:-}`,
}

const COLLECTION_BLOCK: Record<StoreKind, string> = {
  pglite: `  docs:
    store: local
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: starter`,
  pgvector: `  docs:
    store: main
    table: public.docs
    key: id
    # One column, a list joined by \`separator\`, or a template: {template: "{title}\\n{body}"}
    text: [title, body]
    vector: embedding
    profile: starter`,
  opensearch: `  docs:
    store: search
    # The alias your application searches; embedform points it at the live generation.
    alias: docs
    key: id
    text: {template: "{title}\\n{body}"}
    vector: embedding
    updated_at: updated_at
    profile: starter`,
}

export function configTemplate(store: StoreKind, schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# Which profile embeds which collection, in which store. Check it with \`embedform validate\`.
version: 1
default_profile: starter
profiles_dir: ./profiles

stores:
${STORE_BLOCK[store]}

collections:
${COLLECTION_BLOCK[store]}
`
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * Writes embedding.config.yaml, the seed profiles and the two JSON Schemas next to them, so the
 * `# yaml-language-server: $schema=` lines resolve without network access.
 */
export async function scaffold(configPath: string, store: StoreKind, force: boolean): Promise<ScaffoldResult> {
  const root = packageRoot()
  const configFile = resolve(configPath)
  const dir = dirname(configFile)
  const profilesDir = join(dir, 'profiles')
  const schemasDir = join(dir, 'schemas')
  const seedProfiles = (await readdir(join(root, 'profiles'))).filter((f) => f.endsWith('.yaml')).sort()

  const targets = [configFile, ...seedProfiles.map((f) => join(profilesDir, f))]
  if (!force) {
    const taken = []
    for (const t of targets) if (await exists(t)) taken.push(t)
    if (taken.length > 0) {
      throw inputError('E_INIT_EXISTS', `refusing to overwrite ${taken.map((t) => relative(process.cwd(), t) || t).join(', ')}`, {
        location: { file: taken[0]! },
        hint: 'pass --force to overwrite, or run init in another directory',
      })
    }
  }
  await mkdir(profilesDir, { recursive: true })
  await mkdir(schemasDir, { recursive: true })
  const written: string[] = []
  const schemaRef = `./${relative(dir, join(schemasDir, 'config.schema.json'))}`
  if (resolve(root) !== resolve(dir)) {
    for (const s of ['config.schema.json', 'profile.schema.json']) {
      await copyFile(join(root, 'schemas', s), join(schemasDir, s))
      written.push(join(schemasDir, s))
    }
    for (const f of seedProfiles) {
      // Seed profiles already start with `$schema=../schemas/profile.schema.json`, which holds here too.
      await writeFile(join(profilesDir, f), await readFile(join(root, 'profiles', f), 'utf8'))
      written.push(join(profilesDir, f))
    }
  }
  await writeFile(configFile, configTemplate(store, schemaRef))
  written.push(configFile)
  return { written }
}
