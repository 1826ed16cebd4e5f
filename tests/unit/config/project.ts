import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { EmbedformErrors, type EmbedformError } from '../../../src/core/errors.js'
import { loadConfig, type LoadOptions } from '../../../src/config/index.js'

/** Lines 1–8 are fixed so a collection body always starts on line 9. */
export const CONFIG_HEAD = `version: 1
default_profile: small
stores:
  local:
    kind: pglite
    path: ./data
collections:
  docs:
`
export const DOCS_BODY = `    store: local
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: small
`
export const BASE_FILES: Record<string, string> = {
  'embedding.config.yaml': CONFIG_HEAD + DOCS_BODY,
  'profiles/_base.yaml': `normalize: true
index:
  metric: cosine
`,
  'profiles/small.yaml': `extends: _base
model: builtin:starter
dimensions: 100
pooling: mean
`,
}

/** A temp project: the base files with `files` replacing or adding some. */
export function project(files: Record<string, string | null> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedform-config-'))
  for (const [rel, text] of Object.entries({ ...BASE_FILES, ...files })) {
    if (text === null) continue
    const path = join(dir, rel)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
  }
  return dir
}

export async function load(dir: string, opts: Partial<LoadOptions> = {}) {
  return loadConfig({ configPath: join(dir, 'embedding.config.yaml'), env: {}, ...opts })
}

/** The individual errors loadConfig threw; fails the test when it did not throw. */
export async function loadErrors(dir: string, opts: Partial<LoadOptions> = {}): Promise<EmbedformError[]> {
  try {
    await load(dir, opts)
  } catch (e) {
    if (e instanceof EmbedformErrors) return e.errors
    return [e as EmbedformError]
  }
  throw new Error('expected loadConfig to throw')
}
