/**
 * oclif's plugin convention: `embedform plugins link` (or `install` from npm) makes an installed
 * package's `embedform:stores` hook register its store kinds before any command runs, so a
 * project needs no `plugins:` entry for it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const LANCEDB = resolve(import.meta.dirname, '../../packages/store-lancedb')
let dir: string
let env: NodeJS.ProcessEnv

const cli = (args: string[]) => runCli(args, { cwd: join(dir, 'project'), env, timeoutMs: 120_000 })

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-oclif-'))
  // oclif keeps installed plugins under the XDG data directory: a private one per test run.
  env = { XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') }
  mkdirSync(join(dir, 'project'))
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('store plugins installed into the CLI', () => {
  it('does not know the lancedb kind before the plugin is installed', async () => {
    const r = await cli(['init', '--store', 'lancedb', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'E_STORE_KIND' })
  })

  it('registers the kind of a linked plugin through the oclif hook: init scaffolds it and validate accepts it', async () => {
    const link = await cli(['plugins', 'link', LANCEDB, '--no-install'])
    expect(link.code, link.stderr).toBe(0)
    const listed = await cli(['plugins', '--json'])
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toContain('@embedform/store-lancedb')
    const init = await cli(['init', '--store', 'lancedb'])
    expect(init.code, init.stderr).toBe(0)
    expect(readFileSync(join(dir, 'project', 'embedding.config.yaml'), 'utf8')).toContain('kind: lancedb')
    const schema = JSON.parse(readFileSync(join(dir, 'project', 'schemas', 'profile.schema.json'), 'utf8'))
    expect(Object.keys(schema.properties.index.properties)).toEqual(expect.arrayContaining(['pgvector', 'opensearch', 'lancedb']))
    const validate = await cli(['validate'])
    expect(validate.code, validate.stderr + validate.stdout).toBe(0)
  })
})
