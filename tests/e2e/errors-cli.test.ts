/**
 * Errors a user can cause, through the built CLI (issue #11 item 9): each has a code, a message
 * and a hint naming the next step, no stack trace unless --debug (inside --json too), and no
 * secret in any of it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, testPgUrl } from '../helpers/pg.js'

let dir: string
const STACK_LINE = /\n\s+at .+\(.+:\d+:\d+\)/

type JsonError = { code: string; message: string; hint?: string; stack?: string; location?: Record<string, unknown> }
const errorOf = (stdout: string): JsonError => (JSON.parse(stdout) as { error: JsonError }).error

function pgProject(name: string, urlYaml: string): string {
  const d = join(dir, name)
  writeProject(d, { kind: 'pgvector', url: urlYaml }, 'starter')
  return d
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-errors-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the model cache path', () => {
  it('refuses a cache under /proc at once with E_CACHE_DIR, and shows the stack only with --debug', async () => {
    const env = { EMBEDFORM_CACHE_DIR: '/proc/self/embedform' }
    const r = await runCli(['models', 'list', '--json'], { cwd: dir, env, timeoutMs: 30_000 })
    expect(r.code).toBe(2)
    const e = errorOf(r.stdout)
    expect(e).toMatchObject({ code: 'E_CACHE_DIR', location: { path: 'EMBEDFORM_CACHE_DIR' } })
    expect(e.hint).toMatch(/set EMBEDFORM_CACHE_DIR to a writable directory/)
    expect(e.stack).toBeUndefined()
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE)
    const debug = await runCli(['models', 'list', '--json', '--debug'], { cwd: dir, env, timeoutMs: 30_000 })
    expect(errorOf(debug.stdout).stack).toMatch(STACK_LINE)
  })

  it('an unwritable cache fails with a file-system code naming the path and EMBEDFORM_CACHE_DIR, no stack', async () => {
    const file = join(dir, 'not-a-directory')
    writeFileSync(file, 'x')
    const r = await runCli(['models', 'build', 'starter'], { cwd: dir, env: { EMBEDFORM_CACHE_DIR: join(file, 'cache') }, timeoutMs: 60_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error\[E_FS_PATH\] .*not-a-directory.*a part of the path is a file/)
    expect(r.stderr).toMatch(/hint: the model cache is .*: set EMBEDFORM_CACHE_DIR to a writable directory/)
    expect(r.stderr).not.toMatch(STACK_LINE)
  })
})

describe('download errors', () => {
  it('suggest HF_HUB_OFFLINE, which every command honours, rather than an --offline flag most commands lack', async () => {
    const r = await runCli(['models', 'pull', 'hf:acme/model'], { cwd: dir, env: { EMBEDFORM_CACHE_DIR: join(dir, 'cache'), HF_ENDPOINT: 'http://127.0.0.1:1' }, timeoutMs: 30_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error\[E_DOWNLOAD\] cannot reach http:\/\/127\.0\.0\.1:1\//)
    expect(r.stderr).toContain('set HF_HUB_OFFLINE=1')
    expect(r.stderr).not.toContain('--offline')
  })
})

describe('connection errors', () => {
  it('name the store, the environment variable and the percent-encoding rule, without the password', async () => {
    const d = pgProject('auth', '${env:DATABASE_URL}')
    const u = new URL(testPgUrl())
    u.password = 'wrong-Secret'
    const r = await runCli(['status', '--json'], { cwd: d, env: { DATABASE_URL: u.toString() }, timeoutMs: 30_000 })
    expect(r.code, r.stderr).toBe(1)
    const e = errorOf(r.stdout)
    expect(e.code).toBe('E_STORE_CONNECT')
    expect(e.message).toMatch(/^authentication failed for store "main" \(pgvector at postgres:\/\/embedform:\*\*\*\*@/)
    expect(e.hint).toMatch(/stores\.main\.url \(set from \$DATABASE_URL\)/)
    expect(e.hint).toMatch(/percent-encoded .*@ → %40/)
    expect(r.stdout + r.stderr).not.toContain('wrong-Secret')
  })

  it('say which store cannot be reached', async () => {
    const d = pgProject('refused', 'postgres://app:pw@127.0.0.1:1/app')
    const r = await runCli(['plan', '--no-measure'], { cwd: d, timeoutMs: 30_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error\[E_STORE_CONNECT\] .*cannot reach store "main" \(pgvector at postgres:\/\/app:\*\*\*\*@127\.0\.0\.1:1\/app\)/)
    expect(r.stderr).toMatch(/hint: check that the server is running and that stores\.main\.url names its host and port/)
  })
})

describe('missing privileges', () => {
  it('name the store and point at docs/privileges.md', async () => {
    const db = await createTestDatabase()
    const role = `pf_nosel_${Math.random().toString(36).slice(2, 8)}`
    try {
      await db.sql('CREATE TABLE docs (id bigint PRIMARY KEY, title text, body text)')
      await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw-x'`)
      const u = new URL(db.url)
      u.username = role
      u.password = 'pw-x'
      const d = pgProject('privilege', u.toString())
      const r = await runCli(['status'], { cwd: d, timeoutMs: 30_000 })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`error\\[E_STORE_PRIVILEGE\\] .*missing privilege on store "main" \\(pgvector at postgres://${role}:\\*\\*\\*\\*@.*permission denied for table docs`))
      expect(r.stderr).toMatch(/hint: grant the privileges this command needs \(docs\/privileges\.md lists them per command\)/)
    } finally {
      await db.sql(`DROP OWNED BY ${role}`).catch(() => undefined)
      await db.drop()
      const admin = new pg.Client({ connectionString: testPgUrl() })
      await admin.connect()
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end())
    }
  })
})

describe('config show --resolved', () => {
  it('masks ?password=, sslpassword and secret-named env values, but not max_tokens', async () => {
    const d = join(dir, 'show')
    writeProject(d, { kind: 'pgvector', url: 'postgres://app@db/app?password=hunter22&sslpassword=keyPass9' }, 'starter')
    writeFileSync(join(d, 'profiles', 'token.yaml'), 'name: token\nextends: starter\ndescription: ${env:API_TOKEN}\n')
    const r = await runCli(['config', 'show', '--resolved'], { cwd: d, env: { API_TOKEN: 'tok-abcdef' }, timeoutMs: 30_000 })
    expect(r.code, r.stderr).toBe(0)
    for (const secret of ['hunter22', 'keyPass9', 'tok-abcdef']) expect(r.stdout).not.toContain(secret)
    expect(r.stdout).toContain('password=****')
    expect(r.stdout).toMatch(/max_tokens\s+256/)
    const plain = await runCli(['config', 'show', '--json'], { cwd: d, env: { API_TOKEN: 'tok-abcdef' }, timeoutMs: 30_000 })
    for (const secret of ['hunter22', 'keyPass9', 'tok-abcdef']) expect(plain.stdout).not.toContain(secret)
    expect(JSON.parse(plain.stdout).profiles.starter.maxTokens).toBe(256)
  })
})
