/**
 * Commands that never connect to a store work when the variable a store URL names is unset (CI
 * jobs, a laptop without database access); the one that connects stops with E_ENV_MISSING at
 * that moment. One broken profile file is one error, not a cascade of unknown-profile errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, writeProject } from '../helpers/cli.js'

const UNSET = 'EMBEDFORM_E2E_UNSET_DATABASE_URL'
let dir: string
const env = { [UNSET]: '', EMBEDFORM_CACHE_DIR: process.env.EMBEDFORM_CACHE_DIR ?? join(process.cwd(), '.cache/embedform') }
const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) })

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-nostore-'))
  writeProject(dir, { kind: 'pgvector', url: `\${env:${UNSET}}` }, 'starter')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a store URL whose variable is unset', () => {
  it('encode works', async () => {
    const r = await cli(['encode', '--profile', 'starter'], '{"id":1,"text":"machine learning"}\n')
    expect(r.stderr).not.toMatch(/E_ENV_MISSING/)
    expect(r.code).toBe(0)
    const line = JSON.parse(r.stdout.trim()) as { id: number; vector: number[] }
    expect(line.id).toBe(1)
    expect(line.vector).toHaveLength(100)
  })

  it('validate, config show, profile list/show and models list work', async () => {
    for (const args of [['validate'], ['config', 'show', '--resolved'], ['profile', 'list'], ['profile', 'show', 'starter'], ['models', 'list']]) {
      const r = await cli(args)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
  })

  it('config show says why the store shows only its name and kind', async () => {
    const r = await cli(['config', 'show'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).stores.main).toEqual({ name: 'main', kind: 'pgvector' })
    expect(r.stderr).toContain(`note: store main: stores.main.url: environment variable ${UNSET} is not set; only commands that connect to it need it`)
  })

  it('validate passes and names the unset variable as a warning, with its position', async () => {
    const r = await cli(['validate', '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { ok: boolean; warnings: { code: string; message: string; location: { path: string; line: number } }[] }
    expect(out.ok).toBe(true)
    expect(out.warnings).toEqual([expect.objectContaining({ code: 'E_ENV_MISSING', message: `environment variable ${UNSET} is not set`, location: expect.objectContaining({ path: 'stores.main.url', line: 5 }) })])
  })

  it('lint runs the rules that need no connection and says which it could not check', async () => {
    const r = await cli(['lint', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as { findings: { rule: string }[]; notes: string[] }
    expect(report.findings.map((f) => f.rule)).toContain('no-quality-gate')
    expect(report.notes.join('\n')).toMatch(new RegExp(`store main not opened \\(environment variable ${UNSET} is not set\\)`))
  })

  it('a command that opens the store stops there with E_ENV_MISSING, its position and hint', async () => {
    for (const args of [['plan', '--json'], ['status', '--json']]) {
      const r = await cli(args)
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2)
      const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string; location: { path: string; line: number } } }
      expect(error).toMatchObject({ code: 'E_ENV_MISSING', message: `environment variable ${UNSET} is not set`, location: { path: 'stores.main.url', line: 5 } })
      expect(error.hint).toBe(`export ${UNSET}=..., or give a default: \${env:${UNSET}:-value}`)
    }
  })
})

describe('config show --resolved', () => {
  it('prints paths under the working directory as they are: $PWD is a directory, not a password', async () => {
    const r = await runCli(['config', 'show', '--resolved', '--json'], { cwd: dir, env: { ...env, PWD: dir, OLDPWD: dir }, timeoutMs: 30_000 })
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { settings: { path: string; value: unknown }[] }
    expect(out.settings.find((s) => s.path === 'profiles_dir')?.value).toBe(join(dir, 'profiles'))
    expect(r.stdout).not.toContain('****')
  })
})

describe('a range error in a profile file', () => {
  it('validate reports that one error, not "unknown profile" for default_profile, the collection and the profile extending it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'embedform-cascade-'))
    try {
      const file = writeProject(d, { kind: 'pglite', path: './data' }, 'starter')
      writeFileSync(file, readFileSync(file, 'utf8').replace('version: 1\n', 'version: 1\ndefault_profile: starter\n'))
      writeFileSync(join(d, 'profiles', 'starter.yaml'), 'name: starter\nmodel: { source: "builtin:starter" }\ndimensions: 100\nbatch_size: 0\n')
      const r = await runCli(['validate', '--json'], { cwd: d, timeoutMs: 30_000 })
      expect(r.code).toBe(2)
      const { error } = JSON.parse(r.stdout) as { error: { code: string; errors?: unknown[]; location: { path: string } } }
      expect(error.errors).toBeUndefined()
      expect(error).toMatchObject({ code: 'E_SCHEMA_RANGE', location: { path: 'batch_size' } })
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })
})
