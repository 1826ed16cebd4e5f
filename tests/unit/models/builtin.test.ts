import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILTIN_MODELS, DEFAULT_BUILTINS, builtinModelDir, ensureBuiltin, ensureBuiltinModel, MANIFEST_FILE } from '../../../src/models/index.js'
import { tempDir } from './helpers.js'

const run = promisify(execFile)
let tmp: Awaited<ReturnType<typeof tempDir>>
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  tmp = await tempDir('builtin')
  env = { ...process.env, EMBEDFORM_CACHE_DIR: tmp.path }
})
afterAll(async () => {
  await tmp.cleanup()
})

const builtinRoot = (): string => join(tmp.path, 'models', 'builtin')

describe('builtin models', () => {
  it('names the builtins and keeps bge-small-shape out of --all', () => {
    expect(BUILTIN_MODELS).toEqual(['starter', 'starter-random', 'bert-tiny', 'cross-encoder-tiny', 'bge-small-shape'])
    expect(DEFAULT_BUILTINS).toEqual(['starter', 'starter-random', 'bert-tiny', 'cross-encoder-tiny'])
    expect(builtinModelDir('bert-tiny', env)).toBe(join(tmp.path, 'models', 'builtin', 'bert-tiny'))
  })

  it('rejects an unknown name with E_MODEL_UNKNOWN listing the known ones', async () => {
    expect(() => builtinModelDir('constructor', env)).toThrow(/unknown builtin model/)
    await expect(ensureBuiltinModel('bert-huge', { env })).rejects.toMatchObject({ code: 'E_MODEL_UNKNOWN', kind: 'input', hint: expect.stringContaining('bert-tiny') })
  })

  it('builds once, then reuses the build until it is stale or forced', async () => {
    const first = await ensureBuiltin('bert-tiny', { env })
    expect(first).toEqual({ dir: builtinModelDir('bert-tiny', env), built: true })
    const manifestPath = join(first.dir, MANIFEST_FILE)
    const builtAt = (await stat(manifestPath)).mtimeMs
    expect(await ensureBuiltin('bert-tiny', { env })).toMatchObject({ built: false })
    expect((await stat(manifestPath)).mtimeMs).toBe(builtAt)

    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { recipe: string }
    await writeFile(manifestPath, JSON.stringify({ ...manifest, recipe: 'from-an-older-builder' }))
    expect(await ensureBuiltin('bert-tiny', { env })).toMatchObject({ built: true })
    expect(JSON.parse(await readFile(manifestPath, 'utf8'))).toMatchObject({ recipe: manifest.recipe })
    expect(await ensureBuiltin('bert-tiny', { env, force: true })).toMatchObject({ built: true })
  })

  it('builds exactly once when several callers race, leaving no temporary files', async () => {
    const results = await Promise.all([1, 2, 3].map(() => ensureBuiltin('cross-encoder-tiny', { env })))
    expect(results.filter((r) => r.built)).toHaveLength(1)
    expect(new Set(results.map((r) => r.dir)).size).toBe(1)
    expect((await readdir(builtinRoot())).filter((f) => f.startsWith('.'))).toEqual([])
  })

  it('takes over a lock and removes a half-built directory left behind by a process that died', async () => {
    const { stdout: deadPid } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    await writeFile(join(builtinRoot(), '.bert-tiny.lock'), deadPid)
    await mkdir(join(builtinRoot(), `.tmp-bert-tiny-${deadPid}-0badc0de`, 'onnx'), { recursive: true })
    expect(await ensureBuiltin('bert-tiny', { env, force: true })).toMatchObject({ built: true })
    expect((await readdir(builtinRoot())).filter((f) => f.startsWith('.'))).toEqual([])
  })
})

describe('embedform models build', () => {
  const cli = (args: string[]): Promise<{ code: number; stdout: string }> =>
    run(process.execPath, [resolve('bin/run.js'), 'models', 'build', ...args], { env }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    )

  it('reports built models as JSON and skips current ones', async () => {
    const out = await cli(['bert-tiny', 'cross-encoder-tiny', '--json'])
    expect(out.code).toBe(0)
    const body = JSON.parse(out.stdout) as { models: { name: string; built: boolean; sha256: string; bytes: number }[] }
    expect(body.models.map((m) => [m.name, m.built])).toEqual([['bert-tiny', false], ['cross-encoder-tiny', false]])
    expect(body.models[0]?.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('builds into --out with another vocabulary size', async () => {
    const out = await cli(['bert-tiny', '--out', join(tmp.path, 'out'), '--vocab-size', '2000', '--json'])
    expect(out.code).toBe(0)
    const config = JSON.parse(await readFile(join(tmp.path, 'out', 'bert-tiny', 'config.json'), 'utf8')) as { vocab_size: number }
    expect(config.vocab_size).toBe(2000)
  })

  it('exits 2 with E_MODEL_UNKNOWN for an unknown model', async () => {
    const out = await cli(['nope', '--json'])
    expect(out.code).toBe(2)
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: false, error: { code: 'E_MODEL_UNKNOWN' } })
  })
})
