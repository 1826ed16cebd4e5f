import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_HEAD, DOCS_BODY, project } from '../unit/config/project.js'

const ROOT = resolve(__dirname, '../..')
const BIN = join(ROOT, 'bin', 'run.js')
const run = promisify(execFile)

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built CLI; the environment is scrubbed of EMBEDDING_* so the host cannot leak in. */
async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(EMBEDDING_|ENABLE_RERANKER|RERANK_|RETURN_TOP_K|EMBEDFORM_CONFIG)/.test(k)))
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { ...base, ...env } })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const COMMENTED = `# yaml-language-server: $schema=./schemas/config.schema.json
# our embeddings — this comment must survive
version: 1
default_profile: small
stores:
  local:
    kind: pglite
    path: ./data # on disk
collections:
  docs:
    store: local
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: small # switched by profile use
`

describe('config CLI (built)', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'commands', 'validate.js'))) throw new Error('build the CLI first: npm run build')
  })

  it('validate exits 0 on a valid config and prints JSON with --json', async () => {
    const dir = project()
    const human = await cli(['validate'], dir)
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/is valid: 1 store\(s\), 1 collection\(s\), 1 profile\(s\)/)
    const json = await cli(['validate', '--json', '--config', join(dir, 'embedding.config.yaml')], ROOT)
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, collections: ['docs'], profiles: ['small'] })
  })

  it('validate exits 2 naming file:line and key path, on stderr and in --json', async () => {
    const dir = project({ 'embedding.config.yaml': CONFIG_HEAD + DOCS_BODY.replace('vector:', 'vectr:') })
    const human = await cli(['validate'], dir)
    expect(human.code).toBe(2)
    expect(human.stderr).toMatch(/embedding\.config\.yaml:13:5 at collections\.docs\.vectr: unknown key `vectr`/)
    expect(human.stderr).toMatch(/did you mean `vector`\?/)
    const json = await cli(['validate', '--json'], dir)
    expect(json.code).toBe(2)
    const out = JSON.parse(json.stdout)
    expect(out.ok).toBe(false)
    const errors = out.error.errors ?? [out.error]
    expect(errors).toContainEqual(expect.objectContaining({ code: 'E_SCHEMA_UNKNOWN_KEY', location: expect.objectContaining({ line: 13, path: 'collections.docs.vectr' }) }))
  })

  it('validate exits 2 for a bad EMBEDDING_* variable and for a missing config', async () => {
    const dir = project()
    expect((await cli(['validate'], dir, { EMBEDDING_DEVICE: 'tpu' })).code).toBe(2)
    const missing = await cli(['validate', '--config', 'nope.yaml'], dir)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/E_CONFIG_MISSING[\s\S]*embedform init/)
  })

  it('profile use edits the config keeping comments; unknown names exit 2; no name without a TTY exits 2', async () => {
    const dir = project({ 'embedding.config.yaml': COMMENTED, 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' })
    const used = await cli(['profile', 'use', 'other', '--collection', 'docs', '--json'], dir)
    expect(used.code).toBe(0)
    expect(JSON.parse(used.stdout).changes).toEqual([{ path: 'collections.docs.profile', from: 'small', to: 'other' }])
    expect(readFileSync(join(dir, 'embedding.config.yaml'), 'utf8')).toBe(COMMENTED.replace('profile: small #', 'profile: other #'))
    expect((await cli(['profile', 'use', 'othr'], dir)).code).toBe(2)
    const noTty = await cli(['profile', 'use'], dir)
    expect(noTty.code).toBe(2)
    expect(noTty.stderr).toMatch(/no profile given/)
  })

  it('profile list and show, config show --resolved with sources and redacted secrets', async () => {
    const dir = project()
    writeFileSync(join(dir, 'embedding.config.yaml'), CONFIG_HEAD.replace('stores:\n', 'stores:\n  pg:\n    kind: pgvector\n    url: ${env:PGURL}\n') + DOCS_BODY)
    const env = { PGURL: 'postgres://app:t0psecret@db/app', EMBEDDING_BATCH_SIZE: '7' }
    const list = await cli(['profile', 'list', '--json'], dir, env)
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'small', dimensions: 100, usedBy: ['docs'], isDefault: true, bytesPerRow: 408 })])
    const show = await cli(['profile', 'show', 'small', '--json'], dir, env)
    expect(JSON.parse(show.stdout).values).toContainEqual({ path: 'batch_size', value: 7, source: 'env:EMBEDDING_BATCH_SIZE' })
    const resolved = await cli(['config', 'show', '--resolved', '--batch-size', '9'], dir, env)
    expect(resolved.code).toBe(0)
    expect(resolved.stdout).toMatch(/batch_size\s+9\s+flag:--batch-size/)
    expect(resolved.stdout).toMatch(/normalize\s+true\s+extends:_base/)
    const plain = await cli(['config', 'show'], dir, env)
    for (const out of [resolved.stdout, plain.stdout]) {
      expect(out).not.toContain('t0psecret')
      expect(out).toContain('postgres://app:****@db/app')
    }
  })

  it('init scaffolds a project that validates, and refuses to overwrite', async () => {
    const dir = project({ 'embedding.config.yaml': null, 'profiles/_base.yaml': null, 'profiles/small.yaml': null })
    const init = await cli(['init', '--store', 'pglite'], dir)
    expect(init.code).toBe(0)
    expect((await cli(['validate'], dir)).code).toBe(0)
    expect((await cli(['init'], dir)).code).toBe(2)
    expect((await cli(['init', '--store', 'mongodb'], dir)).code).toBe(2)
  })
})
